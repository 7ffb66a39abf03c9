/**
 * RedisStore: sessions in Redis (standalone, Sentinel or Cluster) through a caller-owned ioredis client, or a node-redis
 * v5 standalone client (redis-client.ts).
 *
 * Key layout (`P` = the prefix, default `cloakroom:`):
 * - `P s:<key>`  a string per session (redis-codec.ts: nine compact fields, the data as one JSON object), with native
 *                expiry PXAT min(idleExpiresAt, absoluteExpiresAt), set on create, patch and touch.
 * - `P i:<n>`    the per-user index, spread over `indexBuckets` sorted sets (redis-index.ts): member = a tag of the
 *                owner + the session key, score = absoluteExpiresAt in seconds. The score never changes (a touch only
 *                moves the idle expiry, which can never pass the absolute one), so patch and touch never write the
 *                index. A bucket expires no earlier than its longest-lived member (its absolute expiry rounded up to
 *                the hour). Sessions without a user have no member.
 * - `P u:<userId>` the per-user sorted sets of the previous format (redis-legacy.ts), read until they expire.
 * Why a string: one Redis key costs ~150 B before its content, so a session is one key, and its value stays one
 * allocation of ~60 bytes for a fresh session (a hash would turn into a hashtable of hundreds of bytes as soon as a
 * value passed 64 bytes). A patch still changes only the top-level data keys it names: the PATCH script splices them
 * into the stored JSON object as text (redis-scripts.ts), so two concurrent patches of different keys both survive.
 *
 * Atomicity:
 * - get, patch, touch and the record half of create/destroy touch one key; each is one command or Lua script, atomic
 *   anywhere. patch and touch check existence and expiry (against the store's clock) inside the script: a destroyed or
 *   expired session is never resurrected by a late patch.
 * - Standalone/Sentinel, or Cluster with a hash tag inside the prefix (e.g. `{sessions}:`, which pins every key to one
 *   slot): create writes record + index member in one script (the creates of a tick share one call:
 *   redis-create-batch.ts), and listByUser/destroyByUser drop members whose record is gone in one script that
 *   re-checks each record — so the index is exact.
 * - Cluster without such a tag: a session key and its index bucket live in different slots and no script may touch
 *   both. The index is then kept correct by ordering, not atomicity: create writes the index member FIRST and the
 *   record second; destroy deletes the record FIRST and the member second. A crash in between can only leave a
 *   dangling member (a member whose record is gone), never a live session missing from the index, so "log out
 *   everywhere" never misses a session. Dangling members are skipped on read and removed once their score
 *   (absoluteExpiresAt) passes; they are not removed earlier, because from another client a missing record is
 *   indistinguishable from a create that has written its member but not yet its record.
 *
 * Migration from the hash records of earlier versions (redis-legacy.ts): get reads them (a GET answers WRONGTYPE,
 * then HGETALL), patch and touch first rewrite one as a string record (MIGRATE, compared on its version, so a
 * concurrent change is never lost), destroy and destroyByUser delete either kind, and listByUser/destroyByUser also
 * read the user's old sorted set. Records of both formats may therefore coexist; an instance running the previous
 * version cannot patch a record this one has rewritten, so upgrade every instance at once.
 *
 * The string records' first release wrote the same records and index with a CREATE script per session (pruning and
 * re-reading the bucket's top member on every create); it and this one can serve the same database side by side,
 * since neither ever sets a bucket's expiry below one of its members' scores.
 *
 * Commands are written to the socket in bursts, one per turn of the event loop (redis-write-batch.ts for ioredis;
 * node-redis does it itself); the store's own commands still reach Redis in the order they were issued.
 *
 * sweep() resolves 0 without I/O: Redis expires records itself, and index pruning happens on one create in eight, on
 * listByUser/destroyByUser and by the buckets' own expiry, so a periodic scan would cost more than it removes.
 */
import { expiresAtOf } from "../core/types.js";
import { commandsOf, isNoScript, type RedisClient, type RedisCommands } from "./redis-client.js";
import { encodeOwner, encodeRecord, expireAtArg, expiresAtOfValue, patchArgs } from "./redis-codec.js";
import { checkIndexBuckets, DEFAULT_INDEX_BUCKETS } from "./redis-index.js";
import { isWrongType, legacyExpiresAt, legacyFieldsToRecord } from "./redis-legacy.js";
import { RecordReader } from "./redis-read.js";
import { CREATE, DESTROY, DESTROY_OWNED, MIGRATE, PATCH, type LuaScript } from "./redis-scripts.js";
import { escapeGlob } from "./redis-scan.js";
import { UserIndex } from "./redis-user-index.js";
import type { BeforeWrite } from "./redis-write-batch.js";
import { CreateBatch } from "./redis-create-batch.js";
import { restoreFastStringMethods } from "./fast-strings.js";
import { guardStore, storeError } from "./store-error.js";
import type {
  BaseStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

export type { NodeRedisClient, RedisClient } from "./redis-client.js";

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions extends BaseStoreOptions {
  /**
   * A connected (or connecting) ioredis client, `Redis` (standalone or Sentinel) or `Cluster` (its `keyPrefix` option
   * unset: use `prefix`), or a connected node-redis v5 client of `createClient()` (RESP2 or 3, its default type
   * mapping; not `createCluster()`: use ioredis for Redis Cluster). The caller owns it: {@link RedisStore.close} does
   * not quit it.
   */
  client: RedisClient;
  /**
   * Prepended to every key. Must not be empty, and must not begin another store's prefix on the same database:
   * clear() deletes `prefix*` (glob characters in it are escaped, so they match literally). On Cluster, a hash tag
   * inside it (`"{sessions}:"`) puts every key in one slot, which makes the user index exact at the cost of one shard.
   * @default "cloakroom:"
   */
  prefix?: string;
  /**
   * How many sorted sets the per-user index is spread over (redis-index.ts). Each stays compact (listpack-encoded)
   * up to Redis's `zset-max-listpack-entries` (128) members, so pick at least logged-in sessions ÷ 100. Changing it
   * while sessions live hides their index entries: listByUser/destroyByUser would miss them until they expire.
   * @default 131072
   */
  indexBuckets?: number;
}

/** How many per-key commands run at once in destroyByUser/listByUser. */
const BATCH = 256;

/** Redis Cluster hashes only the part between the first `{` and the next `}` when it is non-empty (cluster spec). */
function prefixPinsSlot(prefix: string): boolean {
  const open = prefix.indexOf("{");
  if (open === -1) return false;
  return prefix.indexOf("}", open + 1) > open + 1;
}

/**
 * A {@link SessionStore} on Redis through ioredis or node-redis: one string per session with native expiry, a bucketed
 * per-user index, Lua scripts for every per-key change. Works with standalone Redis, Sentinel and Redis Cluster (see the
 * module comment for what is atomic where; Sentinel and Cluster through ioredis). Requires Redis ≥ 7.0 (`EXPIREAT … NX`
 * and `GT` in the create script).
 *
 * @example
 * import { Cluster, Redis } from "ioredis";
 * import { createClient } from "redis";
 * import { RedisStore } from "cloakroom/redis";
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL), prefix: "myapp:sess:" });
 * // Cluster: keys spread over all shards; the user index is kept by write ordering (see above).
 * const clustered = new RedisStore({ client: new Cluster([{ host: "10.0.0.1", port: 6379 }]) });
 * // node-redis (as connect-redis v9 uses): a standalone client, connected first.
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const fromNodeRedis = new RedisStore({ client });
 */
export class RedisStore implements SessionStore {
  readonly capabilities: StoreCapabilities = { listByUser: true, nativeTtl: true, count: true };

  /** The client's commands, whichever library made it (redis-client.ts). */
  private readonly commands: RedisCommands;
  private readonly prefix: string;
  private readonly now: () => number;
  /** True when a session key and the index always share a slot, so one script may touch both. */
  private readonly indexSharesSlot: boolean;
  private readonly index: UserIndex;
  /** Before a command: corks an ioredis socket until the end of the tick (redis-write-batch.ts); nothing for node-redis. */
  private readonly beforeWrite: BeforeWrite;
  /** The creates of the current tick (anonymous and logged in), where a session and its bucket share a slot (redis-create-batch.ts). */
  private readonly creates: CreateBatch | null;
  /** The GET of one record and its decoding (redis-read.ts). */
  private readonly reader: RecordReader;

  /**
   * @param options see {@link RedisStoreOptions}
   * @throws {TypeError} when `client` is neither an ioredis client nor a node-redis standalone client, or is an ioredis
   *   client with a `keyPrefix`, `prefix` is empty or not a
   *   string, `indexBuckets` is not an integer from 1 to 2^24, or `now` is not a function
   */
  constructor(options: RedisStoreOptions) {
    const { client, prefix = "cloakroom:", now = Date.now, indexBuckets = DEFAULT_INDEX_BUCKETS } = options ?? ({} as RedisStoreOptions);
    const commands = commandsOf(client);
    if (typeof prefix !== "string" || prefix === "") {
      throw new TypeError("RedisStore: the prefix option must be a non-empty string (clear() deletes prefix*)");
    }
    if (typeof now !== "function") throw new TypeError("RedisStore: the now option must be a function");
    this.commands = commands;
    this.prefix = prefix;
    this.now = now;
    this.indexSharesSlot = !commands.isCluster || prefixPinsSlot(prefix);
    this.beforeWrite = commands.beforeWrite;
    const run = (script: LuaScript, keys: string[], args: string[]): Promise<unknown> => this.run(script, keys, args);
    this.index = new UserIndex({ commands, prefix, buckets: checkIndexBuckets(indexBuckets), sharesSlot: this.indexSharesSlot, run });
    // A batch's rejection is each of its creates': wrapped once per batch, not once per create.
    const sendBatch = (keys: string[], args: string[]): Promise<unknown> => this.run(CREATE, keys, args).catch(this.createFailed);
    this.creates = this.indexSharesSlot ? new CreateBatch(sendBatch, (checked) => this.index.recordChecked(checked)) : null;
    this.reader = new RecordReader(commands, now, () => this.beforeCommand());
    // Loading ioredis slowed every string method call in the process (fast-strings.ts): undone here.
    restoreFastStringMethods();
  }

  /**
   * @param key the store key
   * @returns the record, or `null` when missing or expired by the store's clock (even before Redis expires it)
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  get(key: string): Promise<SessionRecord | null> {
    // Not guardStore's async wrapper: the reader's one `.then` rejects with the store's error (redis-read.ts).
    return this.reader.live(this.sessionKey(key));
  }

  /**
   * Store a record (replacing any under the same key) and index it by `record.userId`. A record that is already
   * expired is not stored.
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  create(key: string, record: SessionRecord): Promise<void> {
    // Not guardStore's async wrapper (a promise and two closures per create): writeNew rejects with the store's error.
    try {
      return this.writeNew(key, record);
    } catch (error) {
      return this.createFailed(error);
    }
  }

  /**
   * Apply `patch` atomically in one script: set/unset top-level data keys, move the idle expiry, bump `version`,
   * re-arm the expiry. A record of the previous format is rewritten in the current one first.
   * @returns `true` if applied, `false` if the record is missing or expired (nothing is written then)
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    return this.guard("patch", () => this.applyPatch(key, patch));
  }

  /**
   * Slide the idle window: set `idleExpiresAt` and `touchedAt`, bump `version`, re-arm the expiry.
   * @returns `true` if applied, `false` if the record is missing or expired
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    return this.guard("touch", () => this.applyPatch(key, { idleExpiresAt, touchedAt }));
  }

  /**
   * Delete a record, then its index member. Deleting a missing key is not an error.
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async destroy(key: string): Promise<void> {
    await this.guard("destroy", () => this.deleteRecordThenMember(key));
  }

  /**
   * The user's live sessions, newest `createdAt` first. Prunes index members whose absolute expiry passed (and,
   * when the index shares the records' slot, members whose record is gone).
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async listByUser(userId: string): Promise<StoredSession[]> {
    return this.guard("listByUser", async () => {
      const now = this.now();
      const entries = await this.index.entries(userId, now);
      const keys = [...new Set([...entries.current, ...entries.legacy])];
      const live: StoredSession[] = [];
      const dead = new Set<string>();
      for (let i = 0; i < keys.length; i += BATCH) {
        const batch = keys.slice(i, i + BATCH);
        const records = await Promise.all(batch.map((key) => this.reader.any(this.sessionKey(key))));
        records.forEach((record, j) => {
          const key = batch[j] as string;
          // Another owner may be a user sharing the tag: only the prune script, which re-checks the tag, removes it.
          if (record === null || record.userId !== userId) dead.add(key);
          else if (expiresAtOf(record) > now) live.push({ key, record });
        });
      }
      await this.index.prune(entries, dead);
      return live.sort((a, b) => b.record.createdAt - a.record.createdAt);
    });
  }

  /**
   * Delete every session of the user except `options.except`, one key at a time (no multi-slot command), then
   * their index members.
   * @returns how many live sessions were deleted
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    return this.guard("destroyByUser", async () => {
      const now = this.now();
      const entries = await this.index.entries(userId, now);
      const keys = [...new Set([...entries.current, ...entries.legacy])].filter((key) => key !== options.except);
      let deleted = 0;
      const removable = new Set<string>();
      for (let i = 0; i < keys.length; i += BATCH) {
        const batch = keys.slice(i, i + BATCH);
        const args = [entries.owner, userId, String(now)];
        const results = await Promise.all(batch.map((key) => this.run(DESTROY_OWNED, [this.sessionKey(key)], args)));
        results.forEach((result, j) => {
          if (result === 1) deleted += 1;
          if (result !== -1) removable.add(batch[j] as string);
        });
      }
      if (this.indexSharesSlot) await this.index.prune(entries, new Set(keys));
      // Only members whose record this call deleted: a missing record may be a create still in flight.
      else await this.index.removeDeleted(entries, removable);
      return deleted;
    });
  }

  /**
   * Delete every key under this store's prefix (records and indexes), scanning each master with SCAN MATCH.
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async clear(): Promise<void> {
    await this.guard("clear", async () => {
      await this.commands.scanEachMaster(`${escapeGlob(this.prefix)}*`, (node, keys) => node.unlinkEach(keys));
    });
  }

  /**
   * How many live sessions there are: SCAN over every master, then each record's expiry compared with the store's
   * clock. O(number of sessions): meant for a gauge, not for every request.
   * @throws {Error} with the driver's error as `cause` when Redis fails
   */
  async count(): Promise<number> {
    return this.guard("count", async () => {
      const now = this.now();
      let live = 0;
      await this.commands.scanEachMaster(`${escapeGlob(this.prefix)}s:*`, async (node, keys) => {
        for (const [i, reply] of (await node.getEach(keys)).entries()) {
          if (reply instanceof Error && !isWrongType(reply)) throw reply;
          const expiresAt = reply instanceof Error ? await legacyExpiresAt(node, keys[i] as string) : reply === null ? 0 : expiresAtOfValue(reply);
          if (expiresAt > now) live += 1;
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
    return this.index.sessionKey(key);
  }

  private readonly createFailed = (error: unknown): Promise<never> => Promise.reject(storeError("RedisStore", "create", error));

  private guard<T>(operation: string, body: () => Promise<T>): Promise<T> {
    return guardStore("RedisStore", operation, body);
  }

  /** Before a command on a session key: send this tick's pending creates first (issue order), and cork the socket. */
  private beforeCommand(): void {
    this.creates?.flush();
    this.beforeWrite();
  }

  /** EVALSHA, falling back to EVAL (which caches the script) on NOSCRIPT — without defining commands on the caller's client. */
  private run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    this.beforeCommand();
    return this.commands.evalsha(script.sha, keys, args).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      this.beforeWrite();
      return this.commands.eval(script.source, keys, args);
    });
  }

  /**
   * create's writes. Where a session and its index bucket share a slot, one CREATE script writes the record and, for
   * a logged-in session, its index member, batched with the other creates of the tick (redis-create-batch.ts): so
   * listByUser/destroyByUser's prune, which removes members whose record is missing, never sees a member before its
   * record, and a lost connection cannot leave one without the other. The record needs no script of its own: the key is
   * fresh (a new ticket's hash), so no patch of it can be running. On a Cluster without a shared slot, an anonymous
   * session is one `SET … PXAT` and a logged-in one its member, then its record (see the module comment).
   */
  private writeNew(key: string, record: SessionRecord): Promise<void> {
    const now = this.now();
    const expiresAt = expiresAtOf(record);
    if (expiresAt <= now) return this.deleteRecordThenMember(key).catch(this.createFailed);
    const value = encodeRecord(record);
    const expireAt = expireAtArg(expiresAt);
    const owner = record.userId === null ? null : encodeOwner(record.userId);
    if (this.creates !== null) {
      if (owner === null) return this.creates.addAnonymous(this.sessionKey(key), value, expireAt);
      return this.index.queueCreate(this.creates, { key, value, expireAt, owner, absoluteExpiresAt: record.absoluteExpiresAt }, now);
    }
    const setRecord = (): Promise<void> => this.commands.set(this.sessionKey(key), value, expireAt).then(() => undefined);
    // Member first, record second: a crash in between leaves a dangling member, never an unindexed session.
    const written = owner === null ? setRecord() : this.index.add(this.index.entryOf(owner, key, record.absoluteExpiresAt), now).then(setRecord);
    return written.catch(this.createFailed);
  }

  /** PATCH; a legacy hash is first rewritten as a string record (compared on its version), then patched. */
  private async applyPatch(key: string, patch: SessionPatch): Promise<boolean> {
    const sessionKey = this.sessionKey(key);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const applied = await this.run(PATCH, [sessionKey], patchArgs(this.now(), patch));
      if (applied !== -2) return applied === 1;
      // Another client may have migrated it meanwhile (WRONGTYPE now) or deleted it: patch again.
      const hash = await this.commands.hgetall(sessionKey).catch((error: unknown) => (isWrongType(error) ? {} : Promise.reject(error)));
      if (Object.keys(hash).length === 0) continue;
      const record = legacyFieldsToRecord(hash);
      if (expiresAtOf(record) <= this.now()) return false;
      await this.run(MIGRATE, [sessionKey], [String(record.version), encodeRecord(record), expireAtArg(expiresAtOf(record))]);
    }
    throw new Error("a legacy record kept changing while being migrated");
  }

  private async deleteRecordThenMember(key: string): Promise<void> {
    const [owner, legacy] = (await this.run(DESTROY, [this.sessionKey(key)], [])) as [string, number];
    if (owner !== "") await this.index.remove(owner, key, legacy === 1);
  }
}
