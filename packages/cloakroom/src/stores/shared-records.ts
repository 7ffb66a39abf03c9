/**
 * Shared, frozen records for `peek()` (the SessionStore contract: a peeked record may be shared between reads when it
 * is deeply frozen). Decoding a held record costs more than the rest of MemoryStore's read: measured under callgrind
 * (bench:steady, GET /dashboard on a logged-in session with ip and User-Agent), decodeRecord took 1.23k instructions
 * a request against 0.67k for the store's lookup and liveness check. A record read again before it changes is
 * therefore handed out as it was decoded the first time, frozen so that no reader can change it for the next one; the
 * engine copies its object values before an application sees them. `get()` still returns a private copy.
 */
import type { SessionRecord } from "../core/types.js";
import { decodeRecord, type HeldRecord } from "./memory-codec.js";

/**
 * Freeze a decoded record, its meta and its data's JSON values (nested objects included), and return it. Every value
 * comes from JSON (memory-codec.ts), so the walk meets no cycles and no exotic objects.
 */
export function frozenRecord(record: SessionRecord): SessionRecord {
  deepFreeze(record.data);
  Object.freeze(record.meta);
  return Object.freeze(record);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

/** One decoded record and the held string it was decoded from. */
interface Memo {
  held: HeldRecord;
  record: SessionRecord;
}

/**
 * The frozen decodings of held records, by key, at most `max` of them (the key memoized first goes first; a memo
 * renewed after a write keeps its place).
 * A memo is valid only for the very held string it came from: any write replaces the string, so it can never answer
 * with a record older than the store's, and the owner need not tell it about writes (only about removals, to free
 * the memory early).
 */
export class SharedRecords {
  readonly #byKey = new Map<string, Memo>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The shared record for `held`, the record now held under `key`. */
  of(key: string, held: HeldRecord): SessionRecord {
    const memo = this.#byKey.get(key);
    if (memo !== undefined && memo.held === held) return memo.record;
    const record = frozenRecord(decodeRecord(held));
    if (memo !== undefined) {
      memo.held = held;
      memo.record = record;
      return record;
    }
    if (this.#byKey.size >= this.#max) this.#byKey.delete(this.#byKey.keys().next().value!);
    this.#byKey.set(key, { held, record });
    return record;
  }

  delete(key: string): void {
    this.#byKey.delete(key);
  }

  clear(): void {
    this.#byKey.clear();
  }
}
