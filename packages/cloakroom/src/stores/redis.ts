/**
 * RedisStore: sessions in Redis (standalone, Sentinel or Cluster) through a caller-owned ioredis client.
 *
 * Key layout (`P` = the prefix, default `cloakroom:`):
 * - `P s:<key>`   a hash per session: `ca ta ia aa` (times, ms), `v` (version), `u` (userId, absent when anonymous),
 *                 `cm` (cookieMaxAge, JSON), `m` (meta, JSON) and one field `d:<name>` per top-level data key (the
 *                 value as JSON). Native expiry: PEXPIREAT min(idleExpiresAt, absoluteExpiresAt), set on create, patch
 *                 and touch.
 * - `P u:<userId>` a sorted set per user: member = session key, score = `absoluteExpiresAt`. The score never changes
 *                 (a touch only moves the idle expiry, which can never pass the absolute one), so patch and touch never
 *                 write the index. The set itself expires with its longest-lived member.
 *
 * Why a hash and not a JSON string: a patch writes only the fields it changes (HSET/HDEL inside one Lua script), so
 * two concurrent patches of different top-level keys both survive without decoding user data in Lua — cjson would
 * turn `[]` into `{}` and round large numbers.
 *
 * Atomicity:
 * - get, patch, touch and the record half of create/destroy touch one key; each is one Lua script, atomic anywhere.
 *   patch and touch check existence and expiry (against the store's clock) inside the script: a destroyed or expired
 *   session is never resurrected by a late patch.
 * - Standalone/Sentinel, or Cluster with a hash tag inside the prefix (e.g. `{sessions}:`, which pins every key to one
 *   slot): create writes record + index in one script, and listByUser/destroyByUser drop index members whose record
 *   is gone in one script that re-checks each record — so the index is exact.
 * - Cluster without such a tag: a session key and its user's index live in different slots and no script may touch
 *   both. The index is then kept correct by ordering, not atomicity: create writes the index member FIRST and the
 *   record second; destroy deletes the record FIRST and the member second. A crash in between can only leave a
 *   dangling member (a member whose record is gone), never a live session missing from the index, so "log out
 *   everywhere" never misses a session. Dangling members are skipped on read and removed once their score
 *   (absoluteExpiresAt) passes; they are not removed earlier, because from another client a missing record is
 *   indistinguishable from a create that has written its member but not yet its record.
 *
 * sweep() resolves 0 without I/O: Redis expires records itself, and index pruning happens on listByUser/destroyByUser
 * and by the index key's own expiry, so a periodic scan would cost more than the dangling members it removes.
 */
import type { Cluster, Redis } from "ioredis";
import { expiresAtOf } from "../core/types.js";
import { expireAtArg, fieldsToRecord, patchArgs, recordToFields } from "./redis-codec.js";
import { CREATE, DESTROY, DESTROY_OWNED, INDEX_ADD, INDEX_PRUNE, INDEX_READ, PATCH, type LuaScript } from "./redis-scripts.js";
import { guardStore } from "./store-error.js";
import type {
  BaseStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions extends BaseStoreOptions {
  /**
   * A connected (or connecting) ioredis client: `Redis` (standalone or Sentinel) or `Cluster`. The caller owns it:
   * {@link RedisStore.close} does not quit it. Its `keyPrefix` option must be unset (use `prefix`).
   */
  client: Redis | Cluster;
  /**
   * Prepended to every key. Must not be empty, and must not begin another store's prefix on the same database:
   * clear() deletes `prefix*` (glob characters in it are escaped, so they match literally). On Cluster, a hash tag
   * inside it (`"{sessions}:"`) puts every key in one slot, which makes the user index exact at the cost of one shard.
   * @default "cloakroom:"
   */
  prefix?: string;
}

/** How many per-key commands run at once in destroyByUser/listByUser, and keys per page in clear/count. */
const BATCH = 256;

/** Redis Cluster hashes only the part between the first `{` and the next `}` when it is non-empty (cluster spec). */
function prefixPinsSlot(prefix: string): boolean {
  const open = prefix.indexOf("{");
  if (open === -1) return false;
  return prefix.indexOf("}", open + 1) > open + 1;
}

/** SCAN MATCH is a glob: escape the prefix so `*`, `?`, `[` or `\` in it match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

function keyPrefixOf(client: Redis | Cluster): string | undefined {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix || options.redisOptions?.keyPrefix || undefined;
}

/**
 * A {@link SessionStore} on Redis through ioredis: one hash per session with native expiry, a sorted set per user,
 * Lua scripts for every per-key change. Works with standalone Redis, Sentinel and Redis Cluster (see the module
 * comment for what is atomic where). Requires Redis ≥ 6.2.
 *
 * @example
 * import { Cluster, Redis } from "ioredis";
 * import { RedisStore } from "cloakroom/redis";
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL), prefix: "myapp:sess:" });
 * // Cluster: keys spread over all shards; the user index is kept by write ordering (see above).
 * const clustered = new RedisStore({ client: new Cluster([{ host: "10.0.0.1", port: 6379 }]) });
 */
export class RedisStore implements SessionStore {
  readonly capabilities: StoreCapabilities = { listByUser: true, nativeTtl: true, count: true };

  private readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly now: () => number;
  /** True when a session key and its user index always share a slot, so one script may touch both. */
  private readonly indexSharesSlot: boolean;

  /**
   * @param options see {@link RedisStoreOptions}
   * @throws {TypeError} when `client` is not an ioredis client or has a `keyPrefix`, `prefix` is empty or not a
   *   string, or `now` is not a function
   */
  constructor(options: RedisStoreOptions) {
    const { client, prefix = "cloakroom:", now = Date.now } = options ?? ({} as RedisStoreOptions);
    if (typeof client !== "object" || client === null || typeof client.evalsha !== "function") {
      throw new TypeError("RedisStore: the client option must be an ioredis Redis or Cluster instance");
    }
    if (keyPrefixOf(client) !== undefined) {
      // SCAN MATCH patterns are not prefixed by ioredis, so clear()/count() would miss or double-prefix keys.
      throw new TypeError("RedisStore: the client's keyPrefix option is not supported; use the prefix option instead");
    }
    if (typeof prefix !== "string" || prefix === "") {
      throw new TypeError("RedisStore: the prefix option must be a non-empty string (clear() deletes prefix*)");
    }
    if (typeof now !== "function") throw new TypeError("RedisStore: the now option must be a function");
    this.client = client;
    this.prefix = prefix;
    this.now = now;
    this.indexSharesSlot = !client.isCluster || prefixPinsSlot(prefix);
  }

  /**
   * @param key the store key
   * @returns the record, or `null` when missing or expired by the store's clock (even before Redis expires it)
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async get(key: string): Promise<SessionRecord | null> {
    return this.guard("get", async () => {
      const hash = await this.client.hgetall(this.sessionKey(key));
      if (Object.keys(hash).length === 0) return null;
      const record = fieldsToRecord(hash);
      return expiresAtOf(record) <= this.now() ? null : record;
    });
  }

  /**
   * Store a record (replacing any under the same key) and index it by `record.userId`. A record that is already
   * expired is not stored.
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async create(key: string, record: SessionRecord): Promise<void> {
    await this.guard("create", async () => {
      const now = this.now();
      if (expiresAtOf(record) <= now) {
        await this.deleteRecordThenMember(key);
        return;
      }
      const sessionKey = this.sessionKey(key);
      const fields = recordToFields(record);
      const indexArgs = [String(record.absoluteExpiresAt), key, expireAtArg(record.absoluteExpiresAt), String(now)];
      const createArgs = [expireAtArg(expiresAtOf(record)), ...indexArgs, ...fields];
      if (record.userId === null) {
        await this.run(CREATE, [sessionKey], createArgs);
      } else if (this.indexSharesSlot) {
        await this.run(CREATE, [sessionKey, this.indexKey(record.userId)], createArgs);
      } else {
        // Member first, record second: a crash in between leaves a dangling member, never an unindexed session.
        await this.run(INDEX_ADD, [this.indexKey(record.userId)], indexArgs);
        await this.run(CREATE, [sessionKey], createArgs);
      }
    });
  }

  /**
   * Apply `patch` atomically in one script: set/unset top-level data keys, move the idle expiry, bump `version`,
   * re-arm PEXPIREAT.
   * @returns `true` if applied, `false` if the record is missing or expired (nothing is written then)
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    return this.guard("patch", async () => {
      const applied = await this.run(PATCH, [this.sessionKey(key)], patchArgs(this.now(), patch));
      return applied === 1;
    });
  }

  /**
   * Slide the idle window: set `idleExpiresAt` and `touchedAt`, bump `version`, re-arm PEXPIREAT.
   * @returns `true` if applied, `false` if the record is missing or expired
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    return this.guard("touch", async () => {
      const applied = await this.run(PATCH, [this.sessionKey(key)], patchArgs(this.now(), { idleExpiresAt, touchedAt }));
      return applied === 1;
    });
  }

  /**
   * Delete a record, then its index member. Deleting a missing key is not an error.
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async destroy(key: string): Promise<void> {
    await this.guard("destroy", () => this.deleteRecordThenMember(key));
  }

  /**
   * The user's live sessions, newest `createdAt` first. Prunes index members whose absolute expiry passed (and,
   * when the index shares the records' slot, members whose record is gone).
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async listByUser(userId: string): Promise<StoredSession[]> {
    return this.guard("listByUser", async () => {
      const now = this.now();
      const members = await this.readIndex(userId, now);
      const live: StoredSession[] = [];
      const dead: string[] = [];
      for (let i = 0; i < members.length; i += BATCH) {
        const batch = members.slice(i, i + BATCH);
        const hashes = await Promise.all(batch.map((member) => this.client.hgetall(this.sessionKey(member))));
        hashes.forEach((hash, j) => {
          const key = batch[j] as string;
          if (hash.u !== userId) {
            dead.push(key);
            return;
          }
          const record = fieldsToRecord(hash);
          if (expiresAtOf(record) > now) live.push({ key, record });
        });
      }
      await this.pruneIndex(userId, dead);
      return live.sort((a, b) => b.record.createdAt - a.record.createdAt);
    });
  }

  /**
   * Delete every session of the user except `options.except`, one key at a time (no multi-slot command), then
   * their index members.
   * @returns how many live sessions were deleted
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    return this.guard("destroyByUser", async () => {
      const now = this.now();
      const members = (await this.readIndex(userId, now)).filter((member) => member !== options.except);
      let deleted = 0;
      const removable: string[] = [];
      for (let i = 0; i < members.length; i += BATCH) {
        const batch = members.slice(i, i + BATCH);
        const results = await Promise.all(
          batch.map((member) => this.run(DESTROY_OWNED, [this.sessionKey(member)], [userId, String(now)])),
        );
        results.forEach((result, j) => {
          if (result === 1) deleted += 1;
          if (result !== -1) removable.push(batch[j] as string);
        });
      }
      if (this.indexSharesSlot) {
        await this.pruneIndex(userId, members);
      } else if (removable.length > 0) {
        // Only members whose record this call deleted: a missing record may be a create still in flight.
        await this.client.zrem(this.indexKey(userId), ...removable);
      }
      return deleted;
    });
  }

  /**
   * Delete every key under this store's prefix (records and indexes), scanning each master with SCAN MATCH.
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async clear(): Promise<void> {
    await this.guard("clear", async () => {
      await this.scanEachMaster(`${escapeGlob(this.prefix)}*`, async (node, keys) => {
        const pipeline = node.pipeline();
        // One key per command: on a Cluster node the keys of one page span many slots (no multi-slot UNLINK).
        for (const key of keys) pipeline.unlink(key);
        throwPipelineError(await pipeline.exec());
      });
    });
  }

  /**
   * How many live sessions there are: SCAN over every master, then each record's expiry compared with the store's
   * clock. O(number of sessions): meant for a gauge, not for every request.
   * @throws {Error} with the ioredis error as `cause` when Redis fails
   */
  async count(): Promise<number> {
    return this.guard("count", async () => {
      const now = this.now();
      let live = 0;
      await this.scanEachMaster(`${escapeGlob(this.prefix)}s:*`, async (node, keys) => {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.hmget(key, "ia", "aa");
        for (const [error, reply] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          const [idle, absolute] = reply as [string | null, string | null];
          if (idle !== null && absolute !== null && Math.min(Number(idle), Number(absolute)) > now) live += 1;
        }
      });
      return live;
    });
  }

  /** Resolves 0: Redis expires records natively, and index members are pruned on read (see the module comment). */
  async sweep(): Promise<number> {
    return 0;
  }

  /** Resolves without quitting the client: the caller created it and owns it. */
  async close(): Promise<void> {}

  private sessionKey(key: string): string {
    return `${this.prefix}s:${key}`;
  }

  private indexKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }

  private guard<T>(operation: string, body: () => Promise<T>): Promise<T> {
    return guardStore("RedisStore", operation, body);
  }

  /** EVALSHA, falling back to EVAL (which caches the script) on NOSCRIPT — without defining commands on the caller's client. */
  private async run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  private async deleteRecordThenMember(key: string): Promise<void> {
    const userId = await this.run(DESTROY, [this.sessionKey(key)], []);
    if (typeof userId === "string") await this.client.zrem(this.indexKey(userId), key);
  }

  private async readIndex(userId: string, now: number): Promise<string[]> {
    return (await this.run(INDEX_READ, [this.indexKey(userId)], [String(now)])) as string[];
  }

  /** Where the index shares the records' slot, drop the given members whose record is gone — re-checked atomically. */
  private async pruneIndex(userId: string, members: string[]): Promise<void> {
    if (!this.indexSharesSlot) return;
    for (let i = 0; i < members.length; i += BATCH) {
      const batch = members.slice(i, i + BATCH);
      const keys = [this.indexKey(userId), ...batch.map((member) => this.sessionKey(member))];
      await this.run(INDEX_PRUNE, keys, [userId, ...batch]);
    }
  }

  private async scanEachMaster(pattern: string, onPage: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
    for (const node of await this.masters()) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", BATCH);
        cursor = next;
        if (keys.length > 0) await onPage(node, keys);
      } while (cursor !== "0");
    }
  }

  private async masters(): Promise<Redis[]> {
    if (!this.client.isCluster) return [this.client as Redis];
    const cluster = this.client as Cluster;
    // The node list is filled by the first slots refresh; a PING waits for the cluster to be ready.
    await cluster.ping();
    return cluster.nodes("master");
  }
}

function throwPipelineError(results: Array<[Error | null, unknown]> | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
