/**
 * The creates of one tick in one CREATE script call (redis-scripts.ts), where a session and its index bucket share a
 * slot. Each script call costs Redis a fixed ~3 µs and the client a command (a Command object, its promise, its RESP
 * framing), which at a million creates is more than the writes themselves; a batch pays them once. So does its
 * promise: every create of a batch waits on the batch's one promise. Measured on 1 M creates (bench/README.md,
 * issue 13).
 *
 * Order: a batch is sent at the end of the tick, or before any other command of the store is written (the store calls
 * {@link CreateBatch.flush} first), so the store's commands still reach Redis in the order they were issued: a create
 * followed by a destroy of the same key in one tick is never reordered into a resurrection.
 */

import type { IndexEntry } from "./redis-user-index.js";

/** The most sessions one CREATE call writes: the script holds Redis while it runs (~10 µs a session). */
export const MAX_BATCH = 64;

/** A logged-in session to create: its Redis key, its record's value and expiry (ms), and its index entry. */
export interface IndexedCreate extends IndexEntry {
  sessionKey: string;
  value: string;
  expireAt: string;
}

interface Batch {
  /** KEYS and ARGV of the anonymous sessions, and of the logged-in ones (CREATE takes the anonymous ones first). */
  anonymousKeys: string[];
  anonymousArgs: string[];
  indexedKeys: string[];
  indexedArgs: string[];
  flags: string;
  pruneAt: string;
  /** bucket, hour pairs of the sessions whose bucket expiry this batch checks (see {@link CreateBatch.addIndexed}). */
  checked: number[];
  size: number;
  written: Promise<void>;
  settle: { resolve(): void; reject(error: unknown): void };
}

export class CreateBatch {
  private open: Batch | null = null;

  /**
   * @param send writes one batch: CREATE with these KEYS and ARGV (its rejection is every create's of the batch)
   * @param onChecked called once a batch is written, before its creates resolve, with the bucket, hour pairs whose
   *   expiry it checked: one call per batch rather than a callback per checked create
   */
  constructor(
    private readonly send: (keys: string[], args: string[]) => Promise<unknown>,
    private readonly onChecked: (checked: number[]) => void = () => {},
  ) {}

  /**
   * Queue an anonymous session (no index member).
   * @returns the batch's promise, settled once the batch is written
   */
  addAnonymous(sessionKey: string, value: string, expireAt: string): Promise<void> {
    const batch = this.open ?? this.openBatch();
    batch.anonymousKeys.push(sessionKey);
    batch.anonymousArgs.push(value, expireAt);
    return this.added(batch);
  }

  /**
   * Queue a logged-in session and its index member; `flag`: what its addition does besides ZADD (CREATE's flags,
   * redis-scripts.ts); `checkedHour`: the hour its bucket's expiry is checked to, or -1 when it is not checked.
   * @returns the batch's promise, settled once the batch is written
   */
  addIndexed(create: IndexedCreate, flag: string, pruneAt: string, checkedHour: number): Promise<void> {
    const batch = this.open ?? this.openBatch();
    batch.indexedKeys.push(create.sessionKey, create.bucketKey);
    batch.indexedArgs.push(create.value, create.expireAt, create.score, create.member);
    batch.flags += flag;
    if (pruneAt !== "") batch.pruneAt = pruneAt;
    if (checkedHour !== -1) batch.checked.push(create.bucket, checkedHour);
    return this.added(batch);
  }

  /** Send the open batch now, if there is one (before another command of the store is written). */
  flush(): void {
    if (this.open !== null) this.close(this.open);
  }

  private added(batch: Batch): Promise<void> {
    batch.size += 1;
    if (batch.size === MAX_BATCH) this.close(batch);
    return batch.written;
  }

  private openBatch(): Batch {
    const settle = { resolve: () => {}, reject: (_error: unknown) => {} };
    const written = new Promise<void>((resolve, reject) => {
      settle.resolve = resolve;
      settle.reject = reject;
    });
    const batch: Batch = { anonymousKeys: [], anonymousArgs: [], indexedKeys: [], indexedArgs: [], flags: "", pruneAt: "", checked: [], size: 0, written, settle };
    this.open = batch;
    process.nextTick(() => this.close(batch));
    return batch;
  }

  /** Send a batch unless it was sent already (full, or flushed before its tick ended). */
  private close(batch: Batch): void {
    if (this.open !== batch) return;
    this.open = null;
    const { anonymousKeys, indexedKeys } = batch;
    const keys = anonymousKeys.length === 0 ? indexedKeys : indexedKeys.length === 0 ? anonymousKeys : anonymousKeys.concat(indexedKeys);
    const args = [String(anonymousKeys.length), batch.pruneAt, batch.flags].concat(batch.anonymousArgs, batch.indexedArgs);
    this.send(keys, args).then(() => {
      if (batch.checked.length > 0) this.onChecked(batch.checked);
      batch.settle.resolve();
    }, batch.settle.reject);
  }
}
