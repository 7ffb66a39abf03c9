/**
 * RedisStore's per-user index: reading, adding to and pruning the buckets of redis-index.ts, and the per-user sorted
 * sets of the legacy format (redis-legacy.ts) until they expire. See redis.ts for what is atomic where.
 */
import type { RedisCommands } from "./redis-client.js";
import { encodeOwner } from "./redis-codec.js";
import { indexNow, indexScore, indexSlotOf, type IndexSlot } from "./redis-index.js";
import { BucketExpiries } from "./redis-bucket-expiry.js";
import type { CreateBatch } from "./redis-create-batch.js";
import { createFlag, INDEX_ADD, INDEX_PRUNE, INDEX_READ, LEGACY_INDEX_PRUNE, LEGACY_INDEX_READ, PRUNE_EVERY, type LuaScript } from "./redis-scripts.js";

/** How many members one prune script checks. */
const BATCH = 256;

/** What the index needs from its store. */
export interface UserIndexContext {
  commands: RedisCommands;
  prefix: string;
  buckets: number;
  /** True when a session key and every index key always share a slot, so one script may touch both. */
  sharesSlot: boolean;
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
}

/** One user's index entries: the store keys found in the buckets and in the legacy per-user set. */
export interface UserEntries {
  userId: string;
  owner: string;
  slot: IndexSlot;
  current: string[];
  legacy: string[];
}

/** A logged-in session to create: its store key, its record's value and expiry (ms), its owner (encoded). */
export interface NewIndexedSession {
  key: string;
  value: string;
  expireAt: string;
  owner: string;
  absoluteExpiresAt: number;
}

/** Where an index member goes: the bucket (its number and key) and the member (tag + store key). */
export interface IndexEntry {
  bucket: number;
  bucketKey: string;
  member: string;
  score: string;
}

export class UserIndex {
  /** Members added by this store so far: the first and then one in PRUNE_EVERY also prune (redis-scripts.ts). */
  private additions = 0;
  /** The buckets this store has seen live until a given hour (redis-bucket-expiry.ts). */
  private readonly expiries = new BucketExpiries();

  constructor(private readonly context: UserIndexContext) {}

  sessionKey(key: string): string {
    return `${this.context.prefix}s:${key}`;
  }

  /** The member a session of `owner` (encoded) has. */
  entryOf(owner: string, key: string, absoluteExpiresAt: number): IndexEntry {
    const { bucket, tag } = indexSlotOf(owner, this.context.buckets);
    return { bucket, bucketKey: this.bucketKey(bucket), member: tag + key, score: indexScore(absoluteExpiresAt) };
  }

  /** The `now` argument of an addition (INDEX_ADD, CREATE): the time to prune at on one addition in PRUNE_EVERY, else "". */
  pruneArg(now: number): string {
    const prune = this.additions % PRUNE_EVERY === 0;
    this.additions += 1;
    return prune ? indexNow(now) : "";
  }

  /**
   * Queue a logged-in create in this tick's CREATE batch. Its bucket's expiry is checked only when this store has not
   * yet seen the bucket live until the member's hour, and recorded once that CREATE succeeded (redis-bucket-expiry.ts,
   * {@link UserIndex.recordChecked}).
   */
  queueCreate(batch: CreateBatch, create: NewIndexedSession, now: number): Promise<void> {
    const entry = this.entryOf(create.owner, create.key, create.absoluteExpiresAt);
    const hour = BucketExpiries.hourOf(Number(entry.score));
    const checkExpiry = this.expiries.mayExpireBefore(entry.bucket, hour);
    const pruneAt = this.pruneArg(now);
    // A literal, not `{ ...entry, … }`: the spread was a third of the client's CPU per logged-in create (25.3 against
    // 17.9 µs through a socket, interleaved on the loaded machine; bench/README.md, session 8).
    const { bucket, bucketKey, member, score } = entry;
    const queued = { bucket, bucketKey, member, score, sessionKey: this.sessionKey(create.key), value: create.value, expireAt: create.expireAt };
    return batch.addIndexed(queued, createFlag(checkExpiry, pruneAt !== ""), pruneAt, checkExpiry ? hour : -1);
  }

  /** Record the bucket, hour pairs whose expiry a successful CREATE checked (CreateBatch's `onChecked`). */
  recordChecked(checked: number[]): void {
    for (let i = 0; i < checked.length; i += 2) this.expiries.record(checked[i]!, checked[i + 1]!);
  }

  async add(entry: IndexEntry, now: number): Promise<void> {
    await this.context.run(INDEX_ADD, [entry.bucketKey], [entry.score, entry.member, this.pruneArg(now)]);
  }

  /** Remove a session's member: from its bucket, or (`legacy`) from the old per-user set of `owner` (raw userId). */
  async remove(owner: string, key: string, legacy: boolean): Promise<void> {
    if (legacy) {
      await this.context.commands.zrem(this.legacyKey(owner), [key]);
      return;
    }
    const { bucketKey, member } = this.entryOf(owner, key, 0);
    await this.context.commands.zrem(bucketKey, [member]);
  }

  /** The user's members, after pruning those whose absolute expiry passed. A key may appear in both lists. */
  async entries(userId: string, now: number): Promise<UserEntries> {
    const owner = encodeOwner(userId);
    const slot = indexSlotOf(owner, this.context.buckets);
    const [current, legacy] = (await Promise.all([
      this.context.run(INDEX_READ, [this.bucketKey(slot.bucket)], [indexNow(now), slot.tag]),
      this.context.run(LEGACY_INDEX_READ, [this.legacyKey(userId)], [String(now)]),
    ])) as [string[], string[]];
    return { userId, owner, slot, current, legacy };
  }

  /** Where the index shares the records' slot, drop the given members whose record is gone — re-checked atomically. */
  async prune(entries: UserEntries, keys: Set<string>): Promise<void> {
    if (!this.context.sharesSlot || keys.size === 0) return;
    const { owner, userId, slot } = entries;
    const bucketKey = this.bucketKey(slot.bucket);
    await this.inBatches(entries.current.filter((key) => keys.has(key)), (batch) =>
      this.context.run(INDEX_PRUNE, [bucketKey, ...batch.map((key) => this.sessionKey(key))], [slot.tag, ...batch]),
    );
    await this.inBatches(entries.legacy.filter((key) => keys.has(key)), (batch) =>
      this.context.run(LEGACY_INDEX_PRUNE, [this.legacyKey(userId), ...batch.map((key) => this.sessionKey(key))], [owner, userId, ...batch]),
    );
  }

  /** Remove the members of sessions this client has just deleted (Cluster without a shared slot: see redis.ts). */
  async removeDeleted(entries: UserEntries, keys: Set<string>): Promise<void> {
    const current = entries.current.filter((key) => keys.has(key)).map((key) => entries.slot.tag + key);
    const legacy = entries.legacy.filter((key) => keys.has(key));
    if (current.length > 0) await this.context.commands.zrem(this.bucketKey(entries.slot.bucket), current);
    if (legacy.length > 0) await this.context.commands.zrem(this.legacyKey(entries.userId), legacy);
  }

  private bucketKey(bucket: number): string {
    return `${this.context.prefix}i:${bucket}`;
  }

  private legacyKey(userId: string): string {
    return `${this.context.prefix}u:${userId}`;
  }

  private async inBatches(keys: string[], body: (batch: string[]) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH) await body(keys.slice(i, i + BATCH));
  }
}
