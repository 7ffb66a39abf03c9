/**
 * MemcachedStore: sessions in memcached through memcache-client.
 *
 * Key layout (`P` = the prefix, default `cloakroom:`; `h(x)` = base64url(SHA-256(x)), 43 characters, so any session
 * key or user id — CRLF, NUL, spaces, 10 kB — becomes a legal memcached key of bounded length):
 * - `P s:h(key)`    the session: JSON `{ g, e, r }` = namespace generation and user epoch it was stamped with, and the
 *                   SessionRecord. exptime = min(idleExpiresAt, absoluteExpiresAt), re-armed on every write.
 * - `P e:h(userId)` the user's epoch (a decimal counter, no exptime).
 * - `P g`           the namespace generation (a decimal counter, no exptime).
 *
 * A record is live while `r` has not expired by the store's clock, `g >= P g` and (for a user's session) `e >= P e:…`.
 * memcached has no secondary index, so revocation is by counter instead of by deletion:
 * - destroyByUser(user) increments the user's epoch: every session stamped before is dead at once. Its `except`
 *   session is first re-stamped to epoch + 1 (by cas), so it stays live before and after the increment.
 * - clear() increments the generation: every record under this prefix is dead at once.
 * Dead records are deleted when next read, and expire by themselves anyway. A counter that is missing (evicted) is
 * re-created from the clock (microseconds since the epoch), which is larger than any value it had: records stamped
 * before are then dead — an eviction logs users out, it never revives a revoked session.
 *
 * One item holds the whole record, so a session is limited by memcached's item size (1 MB unless started with -I).
 *
 * Per-key changes are gets/cas loops: a concurrent writer makes cas fail with EXISTS and the loser re-reads and
 * re-applies its change, so concurrent patches of different top-level keys all survive. Updates never use `set`, so
 * a patch racing a destroy gets NOT_FOUND and writes nothing.
 */
import type { MemcacheClient } from "memcache-client";
import type { MultiCasRetrievalResponse, MultiRetrievalResponse } from "memcache-client";
import { expiresAtOf } from "../core/types.js";
import { MAX_CAS_ATTEMPTS, PREFIX_PATTERN, applyPatch, covers, createMemcachedClient, decodeEntry, digest, initialCounter, isStatus, jitteredBackoff, memcachedExptime, type LoadedEntry, type StoredEntry } from "./memcached-codec.js";
import { guardStore } from "./store-error.js";
import type {
  BaseStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

export { MEMCACHED_MAX_RELATIVE_EXPTIME, createMemcachedClient, memcachedExptime } from "./memcached-codec.js";
export type { MemcachedClientOptions } from "./memcached-codec.js";

/** Options of {@link MemcachedStore}. Give `client` or `servers`, not both. */
export interface MemcachedStoreOptions extends BaseStoreOptions {
  /** A memcache-client instance the caller owns ({@link MemcachedStore.close} does not shut it down). */
  client?: MemcacheClient;
  /**
   * `host:port` of the memcached server the store connects to itself (and disconnects on close()). Several,
   * comma-separated, are a memcache-client failover group (not sharding).
   * @default "127.0.0.1:11211"
   */
  servers?: string;
  /**
   * Prepended to every key: printable ASCII without spaces, at most 128 characters.
   * @default "cloakroom:"
   */
  prefix?: string;
}

/**
 * A {@link SessionStore} on memcached: native expiry, gets/cas for atomic per-key changes, and revocation by
 * per-user epoch instead of a user index (so `listByUser` and `count` are not available).
 *
 * @example
 * import { MemcachedStore } from "cloakroom/memcached";
 * const store = new MemcachedStore({ servers: "127.0.0.1:11211", prefix: "myapp:" });
 */
export class MemcachedStore implements SessionStore {
  readonly capabilities: StoreCapabilities = { listByUser: false, nativeTtl: true, count: false };

  private readonly client: MemcacheClient;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly generationKey: string;

  /**
   * @param options see {@link MemcachedStoreOptions}
   * @throws {TypeError} when both `client` and `servers` are given, `servers` is not a non-empty string, `prefix` is
   *   not printable ASCII without spaces (≤ 128 characters), or `now` is not a function
   */
  constructor(options: MemcachedStoreOptions = {}) {
    const { client, servers, prefix = "cloakroom:", now = Date.now } = options;
    if (client !== undefined && servers !== undefined) {
      throw new TypeError("MemcachedStore: give either the client option or the servers option, not both");
    }
    if (client !== undefined && (typeof client !== "object" || client === null || typeof client.gets !== "function")) {
      throw new TypeError("MemcachedStore: the client option must be a memcache-client MemcacheClient");
    }
    if (servers !== undefined && (typeof servers !== "string" || servers.trim() === "")) {
      throw new TypeError('MemcachedStore: the servers option must be a non-empty "host:port" string');
    }
    if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
      throw new TypeError("MemcachedStore: the prefix option must be printable ASCII without spaces, at most 128 characters");
    }
    if (typeof now !== "function") throw new TypeError("MemcachedStore: the now option must be a function");
    this.client = client ?? createMemcachedClient(servers ?? "127.0.0.1:11211");
    this.ownsClient = client === undefined;
    this.prefix = prefix;
    this.now = now;
    this.generationKey = `${prefix}g`;
  }

  /**
   * @param key the store key
   * @returns the record, or `null` when missing, expired (by the store's clock), revoked by destroyByUser or cleared
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async get(key: string): Promise<SessionRecord | null> {
    return this.guard("get", async () => (await this.load(key))?.entry.r ?? null);
  }

  /**
   * Store a record (replacing any under the same key), stamped with the current generation and user epoch. A record
   * that is already expired is not stored.
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async create(key: string, record: SessionRecord): Promise<void> {
    await this.guard("create", async () => {
      const exptime = memcachedExptime(expiresAtOf(record), this.now());
      if (exptime < 0) {
        await this.deleteItem(this.sessionKey(key));
        return;
      }
      const { generation, epoch } = await this.currentCounters(record.userId);
      const entry: StoredEntry = { g: generation, e: epoch, r: record };
      await this.client.set(this.sessionKey(key), JSON.stringify(entry), { lifetime: exptime });
    });
  }

  /**
   * Apply `patch` with gets/cas, retrying (bounded, jittered) while another writer wins the race.
   * @returns `true` if applied, `false` if the record is missing, expired or revoked (nothing is written then)
   * @throws {Error} with the memcache-client error as `cause` when memcached fails or contention outlasts the retries
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    return this.guard("patch", () => this.update(key, patch));
  }

  /**
   * Slide the idle window: set `idleExpiresAt` and `touchedAt`, bump `version`, re-arm the exptime.
   * @returns `true` if applied, `false` if the record is missing, expired or revoked
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    return this.guard("touch", () => this.update(key, { idleExpiresAt, touchedAt }));
  }

  /**
   * Delete one record. Deleting a missing key is not an error.
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async destroy(key: string): Promise<void> {
    await this.guard("destroy", () => this.deleteItem(this.sessionKey(key)));
  }

  /** Always rejects: memcached has no secondary index (`capabilities.listByUser` is false). */
  async listByUser(_userId: string): Promise<StoredSession[]> {
    throw new TypeError("MemcachedStore: listByUser is not supported (capabilities.listByUser is false): memcached has no index");
  }

  /**
   * Revoke every session of the user at once by incrementing the user's epoch; `options.except` is re-stamped first
   * so it survives.
   * @returns 0: without an index the store cannot tell how many sessions it revoked
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    return this.guard("destroyByUser", async () => {
      if (options.except !== undefined) await this.stampAhead(userId, options.except);
      await this.incrementCounter(this.epochKey(userId));
      return 0;
    });
  }

  /**
   * Revoke every record under this prefix at once by incrementing the namespace generation (memcached has no
   * namespace delete; `flush_all` would wipe other applications' keys).
   * @throws {Error} with the memcache-client error as `cause` when memcached fails
   */
  async clear(): Promise<void> {
    await this.guard("clear", () => this.incrementCounter(this.generationKey).then(() => undefined));
  }

  /** Always rejects: memcached cannot enumerate keys (`capabilities.count` is false). */
  async count(): Promise<number> {
    throw new TypeError("MemcachedStore: count is not supported (capabilities.count is false): memcached cannot enumerate keys");
  }

  /** Resolves 0: memcached expires items natively. */
  async sweep(): Promise<number> {
    return 0;
  }

  /** Shut down the connection if the store opened it (from `servers`); a caller's client is left open. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.shutdown();
  }

  private sessionKey(key: string): string {
    return `${this.prefix}s:${digest(key)}`;
  }

  private epochKey(userId: string): string {
    return `${this.prefix}e:${digest(userId)}`;
  }

  private guard<T>(operation: string, body: () => Promise<T>): Promise<T> {
    return guardStore("MemcachedStore", operation, body);
  }

  /**
   * Read a live record and its cas token. The user epoch can only be read after the record (its key comes from the
   * record), so a stale stamp is confirmed by a second read before the record counts as revoked: destroyByUser may
   * have re-stamped its `except` session between the two reads.
   */
  private async load(key: string): Promise<LoadedEntry | null> {
    const sessionKey = this.sessionKey(key);
    const items = await this.client.gets<MultiCasRetrievalResponse<string>>([this.generationKey, sessionKey]);
    const generation = items[this.generationKey]?.value;
    const item = items[sessionKey];
    if (item === undefined) return null;
    const entry = decodeEntry(item.value);
    if (expiresAtOf(entry.r) <= this.now()) return null;
    if (!covers(entry.g, generation)) {
      if (generation !== undefined) await this.deleteItem(sessionKey);
      return null;
    }
    const userId = entry.r.userId;
    if (userId === null) return { entry, cas: String(item.casUniq), epoch: undefined };
    const epoch = (await this.client.get<string>(this.epochKey(userId)))?.value;
    if (covers(entry.e, epoch)) return { entry, cas: String(item.casUniq), epoch };
    const again = await this.client.gets<string>(sessionKey);
    if (again === undefined) return null;
    const confirmed = decodeEntry(again.value);
    if (confirmed.r.userId !== userId) return null;
    if (!covers(confirmed.e, epoch)) {
      // Epochs only grow, so a record behind its user's epoch is dead for good.
      if (epoch !== undefined) await this.deleteItem(sessionKey);
      return null;
    }
    if (expiresAtOf(confirmed.r) <= this.now() || !covers(confirmed.g, generation)) return null;
    return { entry: confirmed, cas: String(again.casUniq), epoch };
  }

  private async update(key: string, patch: SessionPatch): Promise<boolean> {
    const sessionKey = this.sessionKey(key);
    for (let attempt = 1; ; attempt += 1) {
      const loaded = await this.load(key);
      if (loaded === null) return false;
      const record = applyPatch(loaded.entry.r, patch);
      const entry: StoredEntry = { ...loaded.entry, r: record };
      try {
        // cas never creates: a record destroyed since the read answers NOT_FOUND and stays destroyed.
        await this.client.cas(sessionKey, JSON.stringify(entry), {
          casUniq: loaded.cas,
          lifetime: memcachedExptime(expiresAtOf(record), this.now()),
        });
        return true;
      } catch (error) {
        if (isStatus(error, "NOT_FOUND")) return false;
        if (!isStatus(error, "EXISTS")) throw error;
        if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`gave up after ${attempt} cas attempts (contention)`, { cause: error });
        await jitteredBackoff(attempt);
      }
    }
  }

  /**
   * Re-stamp a live session of `userId` to the epoch the coming increment will produce, so it is live before and
   * after it. The new stamp derives from the epoch the session was found live against — never from a later read,
   * which could revive a session that a concurrent destroyByUser has just revoked.
   */
  private async stampAhead(userId: string, key: string): Promise<void> {
    const sessionKey = this.sessionKey(key);
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt += 1) {
      const loaded = await this.load(key);
      if (loaded === null || loaded.entry.r.userId !== userId || loaded.epoch === undefined) return;
      const next = (BigInt(loaded.epoch) + 1n).toString();
      if (covers(loaded.entry.e, next)) return;
      try {
        await this.client.cas(sessionKey, JSON.stringify({ ...loaded.entry, e: next }), {
          casUniq: loaded.cas,
          lifetime: memcachedExptime(expiresAtOf(loaded.entry.r), this.now()),
        });
        return;
      } catch (error) {
        if (isStatus(error, "NOT_FOUND")) return;
        if (!isStatus(error, "EXISTS")) throw error;
        await jitteredBackoff(attempt);
      }
    }
    throw new Error(`gave up re-stamping the kept session after ${MAX_CAS_ATTEMPTS} cas attempts (contention)`);
  }

  /** The generation and the user's epoch (null when anonymous) to stamp a new record with: one multi-get. */
  private async currentCounters(userId: string | null): Promise<{ generation: string; epoch: string | null }> {
    const epochKey = userId === null ? null : this.epochKey(userId);
    const items = await this.client.get<MultiRetrievalResponse<string>>(
      epochKey === null ? [this.generationKey] : [this.generationKey, epochKey],
    );
    const valueOf = (key: string): Promise<string> => {
      const value = items[key]?.value;
      return value === undefined ? this.ensureCounter(key) : Promise.resolve(String(value));
    };
    const [generation, epoch] = await Promise.all([valueOf(this.generationKey), epochKey === null ? null : valueOf(epochKey)]);
    return { generation, epoch };
  }

  /** The counter's value, creating it (add, so concurrent creators agree) when missing. */
  private async ensureCounter(key: string): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = (await this.client.get<string>(key))?.value;
      if (current !== undefined) return String(current);
      const created = await this.addFreshCounter(key);
      if (created !== null) return created;
    }
    throw new Error(`counter ${key} vanished repeatedly (memcached evicting under memory pressure?)`);
  }

  /** Increment the counter, or create it when missing (a fresh value is larger than any it replaces). */
  private async incrementCounter(key: string): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        return String(await this.client.incr(key, 1));
      } catch (error) {
        if (!isStatus(error, "NOT_FOUND")) throw error;
      }
      const created = await this.addFreshCounter(key);
      if (created !== null) return created;
    }
    throw new Error(`counter ${key} vanished repeatedly (memcached evicting under memory pressure?)`);
  }

  /** Create the counter with a fresh value (add, so concurrent creators agree); `null` when another client won. */
  private async addFreshCounter(key: string): Promise<string | null> {
    const fresh = initialCounter().toString();
    try {
      await this.client.add(key, fresh, { lifetime: 0 });
      return fresh;
    } catch (error) {
      if (!isStatus(error, "NOT_STORED")) throw error;
      return null;
    }
  }

  private async deleteItem(key: string): Promise<void> {
    try {
      await this.client.delete(key);
    } catch (error) {
      if (!isStatus(error, "NOT_FOUND")) throw error;
    }
  }
}
