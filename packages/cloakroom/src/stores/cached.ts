/**
 * CachedStore: an in-process LRU in front of a shared {@link SessionStore}, so that reading a session this instance
 * has seen recently costs no network round trip, kept in step with the other instances by invalidation messages
 * (Redis pub/sub or PostgreSQL LISTEN/NOTIFY).
 *
 * Consistency guarantee. The shared store stays the only source of truth: every write goes to it first, then drops this
 * instance's entry (so the writing instance reads its own writes at once), then publishes an invalidation before it
 * resolves; only what the shared store returns is ever cached. What can be stale is a read on ANOTHER instance: until
 * the invalidation reaches it, that instance may still return the previous value of a session — one that was just
 * changed, destroyed, or revoked by destroyByUser(). Normally that window is the channel's delivery latency (well under
 * a millisecond on one host; one network hop otherwise). Three guards bound it when things go wrong: (1) while the
 * channel is down, and until it is subscribed again, the cache is emptied and bypassed (every get reads through),
 * because messages published meanwhile are lost, so an outage costs at most the time it takes to notice it (immediate
 * for a closed connection); (2) an entry is served for at most `ttl` ms (by `now`) after the read that filled it began,
 * which bounds what nobody can notice (a silent network partition, a writer whose publish failed); (3) a read that
 * began before an invalidation never fills the cache with what it read (a per-key generation, plus an epoch for
 * per-user, all and channel-state invalidations). Expiry is never stale: an entry is not served once
 * `min(idleExpiresAt, absoluteExpiresAt) <= now()`. So a revoked session stays usable on other instances for the
 * delivery latency, and in the worst case for `ttl` after the revocation was written, never longer.
 */
import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import { expiresAtOf } from "../core/types.js";
import { jsonExact } from "./json-exact.js";
import { decodeRecord, encodeRecord, type HeldRecord } from "./memory-codec.js";
import { frozenRecord } from "./shared-records.js";
import type {
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

import { targetOf, type Invalidation, type InvalidationChannel, type Target } from "./cached-channel.js";
import { DEFAULT_MAX_ENTRIES, DEFAULT_TTL, channelsInUse, validateOptions, type CachedStoreOptions } from "./cached-options.js";
import { ReadsInFlight, type ReadTicket } from "./cached-reads.js";

export type { Invalidation, InvalidationChannel } from "./cached-channel.js";
export type { CachedStoreOptions } from "./cached-options.js";
export { RedisInvalidationChannel, type RedisInvalidationChannelOptions } from "./cached-redis.js";
export { PostgresInvalidationChannel, type PostgresInvalidationChannelOptions } from "./cached-postgres.js";

interface Entry {
  /**
   * The record in MemoryStore's held form (memory-codec.ts), when JSON gives it back exactly (what every built-in
   * store keeps: so it cannot differ): a hit decodes a fresh copy, parsing only the data's JSON. Measured under
   * callgrind (bench:steady), a hit's copy cost 14.9k instructions as JSON.parse of the whole record, 4.6k decoded;
   * structuredClone costs ~4× JSON.parse.
   */
  held: HeldRecord | null;
  /** `held` decoded once and frozen, what peek() shares between reads (shared-records.ts); made at the first peek. */
  shared: SessionRecord | null;
  /** Otherwise (a Date, a class instance, an `undefined` in the data) a private copy, handed out via structuredClone. */
  record: SessionRecord | null;
  userId: string | null;
  expiresAt: number;
  /** When the read that produced the record began (ms, `now`): the ttl counts from here. */
  filledAt: number;
}

/**
 * A {@link SessionStore} that keeps recently read sessions in this process's memory, in front of a shared store, and
 * drops them when any instance publishes a change: see the consistency guarantee at the top of this module.
 *
 * `get` is served from memory only while the channel is connected, the entry is younger than `ttl` and the session
 * has not expired; otherwise it reads through. Writes go through to the shared store, then drop the local entry, then
 * publish (a key, a user, or everything). `listByUser`, `count` and `sweep` pass through; `capabilities` are the
 * shared store's. Until the channel's first subscription succeeds, every get reads through.
 *
 * @example
 * import { Redis } from "ioredis";
 * import { RedisStore } from "cloakroom/redis";
 * import { CachedStore, RedisInvalidationChannel } from "cloakroom/cached";
 *
 * const redis = new Redis(process.env.REDIS_URL);
 * const store = new CachedStore({
 *   store: new RedisStore({ client: redis }),
 *   invalidation: new RedisInvalidationChannel({ client: redis }), // subscribes on redis.duplicate()
 *   ttl: 5_000,
 * });
 * // …hand it to the session manager; on shutdown:
 * await store.close(); // closes the channel's subscriber; the caller still owns `redis`
 */
export class CachedStore implements SessionStore {
  /** The shared store's capabilities: every query the cache cannot answer passes through. */
  readonly capabilities: StoreCapabilities;

  readonly #store: SessionStore;
  readonly #channel: InvalidationChannel;
  readonly #ttl: number;
  readonly #now: () => number;
  /** `#now` is Date.now: peek() may take the caller's reading of it. */
  readonly #dateClock: boolean;
  readonly #closeStore: boolean;
  readonly #onError: (error: Error) => void;
  /** Tags this instance's messages, so it can ignore them when they come back. */
  readonly #origin = randomUUID();
  readonly #entries: LRUCache<string, Entry>;
  /** userId → keys of its cached entries, so a per-user invalidation drops exactly those. Kept by the LRU's dispose. */
  readonly #byUser = new Map<string, Set<string>>();
  /** Reads in flight, which an invalidation arriving meanwhile keeps from filling the cache. */
  readonly #reads = new ReadsInFlight();
  #connected = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #subscription: Promise<void>;

  /**
   * Subscribes to the channel at once; gets read through until the subscription is confirmed.
   * @param options see {@link CachedStoreOptions}
   * @throws {TypeError} when an option is invalid (the message names it), or the channel already serves another cache
   */
  constructor(options: CachedStoreOptions) {
    validateOptions(options);
    this.#store = options.store;
    this.#channel = options.invalidation;
    this.capabilities = options.store.capabilities;
    this.#ttl = options.ttl ?? DEFAULT_TTL;
    this.#now = options.now ?? Date.now;
    this.#dateClock = this.#now === Date.now;
    this.#closeStore = options.closeStore ?? false;
    this.#onError = options.onError ?? ((error) => process.emitWarning(error));
    this.#entries = new LRUCache<string, Entry>({
      max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      // Called synchronously on delete, overwrite, eviction and clear, so the user index never points at nothing.
      dispose: (entry, key) => this.#unindex(entry.userId, key),
    });
    channelsInUse.add(this.#channel);
    // Through a promise so a channel that throws synchronously is handled like one that rejects.
    this.#subscription = Promise.resolve()
      .then(() =>
        this.#channel.subscribe(
          (message) => this.#receive(message),
          (connected) => this.#setConnected(connected),
        ),
      )
      .catch((error: unknown) => {
        const message = "CachedStore: the invalidation channel refused to subscribe; every get reads through";
        this.#onError(new Error(message, { cause: error }));
      });
  }

  /** Whether get() may currently be served from memory: the channel is connected and subscribed, and not closed. */
  get caching(): boolean {
    return this.#connected;
  }

  /** Sessions held in memory right now (expired or too old ones not yet dropped included). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Read one session: from memory when allowed (see the class), otherwise from the shared store, caching the result
   * unless an invalidation of that key arrived while it was being read.
   * @returns a copy of the record, or `null` when missing or expired
   */
  async get(key: string): Promise<SessionRecord | null> {
    const hit = this.#fromMemory(key);
    if (hit !== undefined) return hit;
    const ticket: ReadTicket = this.#reads.begin(key, this.#now());
    try {
      const record = await this.#store.get(key);
      if (record !== null && this.#connected && this.#reads.isCurrent(ticket)) this.#remember(key, record, ticket.startedAt);
      return record;
    } finally {
      this.#reads.end(key, ticket);
    }
  }

  /**
   * {@link get} when memory can answer it (a fresh entry while the channel is connected), synchronously.
   * @returns the cached record, frozen and shared between peeks (the contract allows it), or `undefined` when the
   * shared store must be read or the record is not one JSON gives back exactly (get copies that one from memory)
   */
  peek(key: string, now?: number): SessionRecord | undefined {
    // The caller's reading of Date.now when this store's clock is Date.now too (see SessionStore.peek).
    const entry = this.#fresh(key, this.#dateClock ? now : undefined);
    if (entry === undefined || entry.held === null) return undefined;
    return (entry.shared ??= frozenRecord(decodeRecord(entry.held)));
  }

  #fromMemory(key: string): SessionRecord | undefined {
    const entry = this.#fresh(key);
    if (entry === undefined) return undefined;
    return entry.held === null ? structuredClone(entry.record!) : decodeRecord(entry.held);
  }

  /** The entry memory may answer from now (see the class), or `undefined`; a stale one is dropped. */
  #fresh(key: string, at?: number): Entry | undefined {
    if (!this.#connected) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = at ?? this.#now();
    if (now - entry.filledAt < this.#ttl && entry.expiresAt > now) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * Write the record to the shared store, then drop the key here and publish its invalidation (a create may replace
   * an existing record). The record is not cached: only what the shared store returns is, so the cache can never
   * differ from the store in how values come back (a Date in `data`, an `undefined`, a class instance).
   * @throws (as a rejection) the shared store's error; or an Error whose cause is the channel's when the record was
   * written but the invalidation could not be published
   */
  async create(key: string, record: SessionRecord): Promise<void> {
    await this.#writeThrough("create", { type: "key", key }, () => this.#store.create(key, record));
  }

  /**
   * Patch the record in the shared store, then drop it here and on every instance.
   * @returns what the shared store returned
   * @throws (as a rejection) as {@link CachedStore.create}
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    return this.#writeThrough("patch", { type: "key", key }, () => this.#store.patch(key, patch));
  }

  /**
   * Slide the idle window in the shared store, then drop the record here and on every instance.
   * @returns what the shared store returned
   * @throws (as a rejection) as {@link CachedStore.create}
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    return this.#writeThrough("touch", { type: "key", key }, () => this.#store.touch(key, idleExpiresAt, touchedAt));
  }

  /**
   * Delete the record from the shared store, then from this and every instance's memory.
   * @throws (as a rejection) as {@link CachedStore.create}
   */
  async destroy(key: string): Promise<void> {
    await this.#writeThrough("destroy", { type: "key", key }, () => this.#store.destroy(key));
  }

  /** Pass-through: the cache holds single sessions, not lists. */
  async listByUser(userId: string): Promise<StoredSession[]> {
    return this.#store.listByUser(userId);
  }

  /**
   * Delete the user's sessions from the shared store, then publish a per-user invalidation: every instance drops every
   * entry it caches for that user (the `except` session too, which is simply read again).
   * @returns what the shared store returned
   * @throws (as a rejection) as {@link CachedStore.create}
   */
  async destroyByUser(userId: string, options?: { except?: string }): Promise<number> {
    const target: Target = { type: "user", userId };
    return this.#writeThrough("destroyByUser", target, () => this.#store.destroyByUser(userId, options));
  }

  /**
   * Clear the shared store, then every instance's memory.
   * @throws (as a rejection) as {@link CachedStore.create}
   */
  async clear(): Promise<void> {
    await this.#writeThrough("clear", { type: "all" }, () => this.#store.clear());
  }

  /** Pass-through. */
  async count(): Promise<number> {
    return this.#store.count();
  }

  /** Pass-through: expired entries are never served from memory, and the LRU bound removes them in time. */
  async sweep(): Promise<number> {
    return this.#store.sweep();
  }

  /**
   * Stop caching and close the invalidation channel; also close the shared store when `closeStore` is set.
   * Idempotent. After close, gets read through (to a store that may be closed).
   * @throws (as a rejection) the channel's or the store's error when closing them failed
   */
  async close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    this.#setConnected(false);
    await this.#subscription; // never rejects (errors go to onError); lets a first connection attempt settle
    const errors: unknown[] = [];
    await this.#channel.close().catch((error: unknown) => errors.push(error));
    if (this.#closeStore) await this.#store.close().catch((error: unknown) => errors.push(error));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, "CachedStore: closing the channel and the store failed");
  }

  /** Every write: write to the shared store, drop locally, publish. Writes never fill the cache. */
  async #writeThrough<T>(operation: string, target: Target, write: () => Promise<T>): Promise<T> {
    const result = await this.#write(target, write);
    this.#invalidate(target);
    await this.#publish(operation, target);
    return result;
  }

  /** Run `write`; when it fails, invalidate anyway (it may have been applied before failing, e.g. a timeout). */
  async #write<T>(target: Target, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.#invalidate(target);
      // Best effort, on the safe side; the write's own error is the one the caller needs.
      await this.#channel.publish({ ...target, origin: this.#origin }).catch(() => {});
      throw error;
    }
  }

  async #publish(operation: string, target: Target): Promise<void> {
    try {
      await this.#channel.publish({ ...target, origin: this.#origin });
    } catch (error) {
      // Rejecting tells the caller that other instances may serve the old value for up to ttl; every write is safe to
      // retry (destroy is idempotent, a patch sets the same keys again), and a retried revocation publishes again.
      throw new Error(
        `CachedStore: ${operation} was applied to the shared store, but publishing its invalidation failed; other ` +
          `instances may serve the previous value for up to ${this.#ttl} ms`,
        { cause: error },
      );
    }
  }

  #receive(message: Invalidation): void {
    if (this.#closed || (message as { origin?: unknown })?.origin === this.#origin) return;
    this.#invalidate(targetOf(message));
  }

  #setConnected(connected: boolean): void {
    if (this.#closed && connected) return;
    // Either way the cache starts over: entries filled before a loss may have missed messages sent during it, and a
    // read that began on the other side of the change must not fill the cache (the epoch voids it).
    this.#entries.clear();
    this.#reads.voidAll();
    this.#connected = connected;
  }

  #invalidate(target: Target): void {
    switch (target.type) {
      case "key": {
        this.#entries.delete(target.key);
        this.#reads.voidKey(target.key);
        return;
      }
      case "user": {
        // A copy: each delete runs dispose, which edits the set being iterated.
        for (const key of [...(this.#byUser.get(target.userId) ?? [])]) this.#entries.delete(key);
        // A read in flight for one of this user's keys is not in the index yet: void every read in flight (rare event).
        this.#reads.voidAll();
        return;
      }
      case "all":
        this.#entries.clear();
        this.#reads.voidAll();
    }
  }

  /** Keep a private copy of what the shared store returned (the caller owns `record` itself). */
  #remember(key: string, record: SessionRecord, filledAt: number): void {
    const exact = jsonExact(record);
    const entry: Entry = {
      held: exact ? encodeRecord(record) : null,
      shared: null,
      record: exact ? null : structuredClone(record),
      userId: record.userId,
      expiresAt: expiresAtOf(record),
      filledAt,
    };
    this.#entries.set(key, entry); // disposes a previous entry (and its index entry) first
    if (record.userId !== null) {
      let keys = this.#byUser.get(record.userId);
      if (keys === undefined) this.#byUser.set(record.userId, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(userId: string | null, key: string): void {
    if (userId === null) return;
    const keys = this.#byUser.get(userId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#byUser.delete(userId);
  }
}
