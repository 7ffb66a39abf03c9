/**
 * MemoryStore: sessions in this process's heap. For development, tests, and a single instance (or sticky sessions).
 */
import { expiresAtOf } from "../core/types.js";
import { applyDataPatch } from "./data-patch.js";
import { decodeRecord, encodeRecord, expiresAtOfHeld, type HeldRecord } from "./memory-codec.js";
import { UserIndex } from "./memory-index.js";
import { SharedRecords } from "./shared-records.js";
import { SweepPacer } from "./sweep-slice.js";
import { checkSweepInterval, startSweepTimer, type SweepTimer } from "./sweep-timer.js";
import type {
  BaseStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions extends BaseStoreOptions {
  /**
   * Keep at most this many sessions; creating one more evicts the least recently used (a `get` counts as use).
   * @default unbounded
   */
  maxSessions?: number;
  /**
   * How often (ms) one timer removes expired sessions, read or not. `0` disables the timer (call `sweep()` yourself).
   * @default 60_000
   */
  sweepInterval?: number;
}

const DEFAULT_SWEEP_INTERVAL = 60_000;
/** During a sweep, the clock is read once per this many records (reading it costs more than checking one record). */
const CLOCK_EVERY = 64;
/** At most this many records are examined between two yields, however fast the clock says they went. */
const SWEEP_BATCH = 8192;

/**
 * How many records peek() keeps decoded, shared and frozen (shared-records.ts), for sessions read again before they
 * change: 440 B each for a logged-in session with its ip and User-Agent (V8 heap after GC, 10,000 of them peeked, on
 * Node 20), so ~4.4 MB at most beside the held strings.
 */
const SHARED_RECORDS = 10_000;

/** `NaN` (a corrupt time) counts as expired: a record is live only while `expiresAt > now`. */
function isLive(expiresAt: number, now: number): boolean {
  return expiresAt > now;
}

function validateOptions(options: MemoryStoreOptions): void {
  const { maxSessions, sweepInterval, now } = options;
  if (maxSessions !== undefined && !(Number.isSafeInteger(maxSessions) && maxSessions > 0)) {
    throw new TypeError(`MemoryStore: the maxSessions option must be a positive integer (got ${String(maxSessions)})`);
  }
  checkSweepInterval("MemoryStore", sweepInterval);
  if (now !== undefined && typeof now !== "function") {
    throw new TypeError("MemoryStore: the now option must be a function returning epoch milliseconds");
  }
}

/**
 * A {@link SessionStore} in this process's memory: O(1) get, an optional LRU bound, and a per-user index.
 *
 * Expired sessions are never returned and are removed by ONE unref'd interval timer, whether anyone reads them again
 * or not. express-session's MemoryStore only drops an expired session when it is read again, so sessions that are
 * never revisited (bots, one-off visitors) accumulate until the process runs out of memory; this store does not.
 *
 * Sessions live and die with the process and are not shared between processes: use it for development, tests, or a
 * single instance (sticky sessions); use Redis, PostgreSQL or SQLite otherwise.
 *
 * @example
 * import { MemoryStore } from "cloakroom";
 * const store = new MemoryStore({ maxSessions: 100_000 });
 * // ... hand it to the session manager; on shutdown:
 * await store.close();
 */
export class MemoryStore implements SessionStore {
  readonly capabilities: StoreCapabilities = Object.freeze({ listByUser: true, nativeTtl: false, count: true });

  /**
   * key → held record (memory-codec.ts: one string). A Map's insertion order doubles as the LRU order (a use moves the key to the end; the first
   * key is the least recently used), which gives O(1) get, touch and evict with one structure. lru-cache would add a
   * second per-entry structure for nothing here: it needs a bound (ours is optional), and its TTL handling is either a
   * timer per entry (`ttlAutopurge`, what we must avoid) or a full scan (`purgeStale`), which is our sweep anyway.
   */
  readonly #records = new Map<string, HeldRecord>();
  /** Which keys may be whose (memory-index.ts: keyed by a hash of the user id). */
  readonly #byUser = new UserIndex();
  readonly #now: () => number;
  /** `#now` is Date.now: peek() may take the caller's reading of it. */
  readonly #dateClock: boolean;
  readonly #maxSessions: number;
  readonly #timer: SweepTimer;
  /** Decoded records peek() hands out again while their held string is unchanged. */
  readonly #shared: SharedRecords;

  /**
   * @param options see {@link MemoryStoreOptions}
   * @throws {TypeError} when an option is invalid (the message names it)
   */
  constructor(options: MemoryStoreOptions = {}) {
    validateOptions(options);
    this.#now = options.now ?? Date.now;
    this.#dateClock = this.#now === Date.now;
    this.#maxSessions = options.maxSessions ?? Infinity;
    this.#shared = new SharedRecords(Math.min(this.#maxSessions, SHARED_RECORDS));
    this.#timer = startSweepTimer("MemoryStore", options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL, () => this.sweep());
  }

  /** How many records are held right now, expired ones not yet swept included (use {@link count} for live ones). */
  get size(): number {
    return this.#records.size;
  }

  /**
   * Read one session; a read counts as use for the LRU bound.
   * @returns a copy of the record, or `null` when missing or expired
   */
  async get(key: string): Promise<SessionRecord | null> {
    return this.#read(key);
  }

  /**
   * {@link get}, synchronously: everything here is in memory (a subclass may still answer `undefined`: defer to get).
   * The record is frozen and shared with the next peek of the same unchanged session (the contract allows it): a
   * session read again costs no decoding.
   */
  peek(key: string, now?: number): SessionRecord | null | undefined {
    const held = this.#records.get(key);
    if (held === undefined) return null;
    // Liveness from the shared record's fields (already decoded) rather than from the held string's header, at the
    // caller's reading of Date.now when this store's clock is Date.now too (see SessionStore.peek).
    const record = this.#shared.of(key, held);
    if (!isLive(expiresAtOf(record), now !== undefined && this.#dateClock ? now : this.#now())) return this.#expired(key, record);
    if (this.#maxSessions !== Infinity) this.#markUsed(key, held);
    return record;
  }

  /** Remove an expired record met by a read: it reads as missing. */
  #expired(key: string, record: SessionRecord): null {
    this.#remove(key, record.userId);
    return null;
  }

  #read(key: string): SessionRecord | null {
    const held = this.#usedHeld(key);
    return held === undefined ? null : decodeRecord(held);
  }

  /** The live held record under `key`, counted as a use for the LRU bound. */
  #usedHeld(key: string): HeldRecord | undefined {
    const held = this.#liveHeld(key);
    if (held !== undefined && this.#maxSessions !== Infinity) this.#markUsed(key, held);
    return held;
  }

  /**
   * Store a copy of `record` under `key` (replacing any record there) and index it by `record.userId`.
   * An already-expired record is not kept. Evicts the least recently used session when `maxSessions` is exceeded.
   * @throws {TypeError} (as a rejection) when `record.data` is not JSON-serializable (a BigInt, a cycle)
   */
  async create(key: string, record: SessionRecord): Promise<void> {
    const held = encodeRecord(record);
    const previous = this.#records.get(key);
    if (previous !== undefined) this.#remove(key, decodeRecord(previous).userId);
    if (!isLive(expiresAtOf(record), this.#now())) return;
    this.#records.set(key, held);
    if (record.userId !== null) this.#byUser.add(record.userId, key);
    this.#evictOverflow();
  }

  /**
   * Apply a per-key change and increment `version`. Atomic: the whole read-modify-write runs without yielding.
   * @returns `true` if applied, `false` if the record is missing or expired
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const record = this.#readLive(key);
    if (record === null) return false;
    applyDataPatch(record.data, patch);
    if (patch.idleExpiresAt !== undefined) record.idleExpiresAt = patch.idleExpiresAt;
    if (patch.touchedAt !== undefined) record.touchedAt = patch.touchedAt;
    if (patch.cookieMaxAge !== undefined) record.cookieMaxAge = patch.cookieMaxAge;
    record.version += 1;
    this.#replace(key, record);
    return true;
  }

  /**
   * Slide the idle window and increment `version`.
   * @returns `true` if applied, `false` if the record is missing or expired
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    const record = this.#readLive(key);
    if (record === null) return false;
    record.idleExpiresAt = idleExpiresAt;
    record.touchedAt = touchedAt;
    record.version += 1;
    this.#replace(key, record);
    return true;
  }

  /** Delete one session and its index entry; a missing key is fine. */
  async destroy(key: string): Promise<void> {
    const held = this.#records.get(key);
    if (held !== undefined) this.#remove(key, decodeRecord(held).userId);
  }

  /**
   * The live sessions of one user, newest `createdAt` first. Expired ones met on the way are removed.
   * @returns copies of the records with their keys
   */
  async listByUser(userId: string): Promise<StoredSession[]> {
    const now = this.#now();
    const sessions: StoredSession[] = [];
    for (const key of this.#byUser.candidates(userId)) {
      const held = this.#records.get(key);
      if (held === undefined) continue;
      const record = decodeRecord(held);
      if (record.userId !== userId) continue; // another user with the same hash
      if (isLive(expiresAtOf(record), now)) sessions.push({ key, record });
      else this.#remove(key, userId);
    }
    return sessions.sort((a, b) => b.record.createdAt - a.record.createdAt);
  }

  /**
   * Delete every session of one user except `options.except`.
   * @returns how many records were deleted (expired ones not yet swept included)
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    let deleted = 0;
    for (const key of this.#byUser.candidates(userId)) {
      const held = this.#records.get(key);
      if (key === options.except || held === undefined || decodeRecord(held).userId !== userId) continue;
      this.#remove(key, userId);
      deleted += 1;
    }
    return deleted;
  }

  /**
   * Every live session with its key, in no particular order (express-session's `store.all()` is built on it).
   * O(n): for operators and tests, not for requests.
   */
  async entries(): Promise<StoredSession[]> {
    const now = this.#now();
    const sessions: StoredSession[] = [];
    for (const [key, held] of this.#records) {
      if (isLive(expiresAtOfHeld(held), now)) sessions.push({ key, record: decodeRecord(held) });
    }
    return sessions;
  }

  /** Delete every session this store holds. */
  async clear(): Promise<void> {
    this.#records.clear();
    this.#byUser.clear();
    this.#shared.clear();
  }

  /**
   * How many live sessions there are. Sweeps first, so it is O(n) (yielding to the event loop as a sweep does):
   * fine for a metrics gauge scraped every few seconds, not for every request.
   */
  async count(): Promise<number> {
    await this.sweep();
    return this.#records.size;
  }

  /**
   * Remove every expired session (and its index entry), yielding to the event loop after each slice of about 5 ms
   * of work (sweep-slice.ts) and at least every 8,192 records.
   * The timer calls it every `sweepInterval` ms; it is public for operators and tests.
   * @returns how many were removed
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const pacer = new SweepPacer();
    // Gets move keys to the end of the Map while we yield, so the iterator could meet them again: visit at most as
    // many entries as there were at the start, which bounds the work; anything missed goes in the next sweep.
    const budget = this.#records.size;
    let visited = 0;
    let removed = 0;
    let sinceYield = 0;
    for (const [key, held] of this.#records) {
      if (visited >= budget) break;
      visited += 1;
      sinceYield += 1;
      if (!isLive(expiresAtOfHeld(held), now)) {
        this.#remove(key, decodeRecord(held).userId);
        removed += 1;
      }
      if (sinceYield % CLOCK_EVERY === 0 && (sinceYield === SWEEP_BATCH || pacer.spent())) {
        await pacer.yield();
        sinceYield = 0;
      }
    }
    return removed;
  }

  /** Stop the sweep timer. The sessions stay readable; calling it again is harmless. */
  async close(): Promise<void> {
    await this.#timer.stop();
  }

  /** The record under `key` if it is live; an expired one is removed on the spot. */
  #readLive(key: string): SessionRecord | null {
    const held = this.#liveHeld(key);
    return held === undefined ? null : decodeRecord(held);
  }

  /** The held record under `key` if it is live (read from its header, no JSON parsed); an expired one is removed. */
  #liveHeld(key: string): HeldRecord | undefined {
    const held = this.#records.get(key);
    if (held === undefined || isLive(expiresAtOfHeld(held), this.#now())) return held;
    this.#remove(key, decodeRecord(held).userId);
    return undefined;
  }

  /** Write back a changed record of the same key (userId unchanged, so the index stays as it is). */
  #replace(key: string, record: SessionRecord): void {
    const held = encodeRecord(record);
    if (this.#maxSessions !== Infinity) this.#markUsed(key, held);
    else this.#records.set(key, held);
  }

  /** Move `key` to the most-recently-used end: Map.set on an existing key keeps its place, so delete first. */
  #markUsed(key: string, held: HeldRecord): void {
    this.#records.delete(key);
    this.#records.set(key, held);
  }

  #evictOverflow(): void {
    while (this.#records.size > this.#maxSessions) {
      const [oldest] = this.#records.keys();
      this.#remove(oldest!, decodeRecord(this.#records.get(oldest!)!).userId);
    }
  }

  #remove(key: string, userId: string | null): void {
    this.#records.delete(key);
    this.#shared.delete(key);
    if (userId !== null) this.#byUser.remove(userId, key);
  }
}
