/**
 * The commands RedisStore sends, behind one small interface with an implementation per client library, chosen once at
 * construction by duck typing: redis-ioredis.ts for an ioredis `Redis` or `Cluster`, redis-node.ts for a node-redis v5
 * client (`createClient()` of `redis`, which connect-redis v9 users already have; issue 13). RedisStore and its
 * helpers never branch on the library: everything that differs (argument shapes, reply shapes, the socket cork,
 * Cluster nodes, error shapes) is on this side of the interface.
 */
import type { Cluster, Redis } from "ioredis";
import { IoredisCommands } from "./redis-ioredis.js";
import { NodeRedisCommands } from "./redis-node.js";
import type { BeforeWrite } from "./redis-write-batch.js";

/**
 * The part of a node-redis v5 client (`createClient()`, connected) that RedisStore uses: structural, so that this
 * package's types do not need `redis` installed. Only a standalone client has `scanIterator`: node-redis's
 * `createCluster()`, `createSentinel()` and `createClientPool()` clients are refused (use an ioredis `Cluster` for
 * Redis Cluster).
 */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<unknown[]>;
}

/** A client RedisStore accepts. */
export type RedisClient = Redis | Cluster | NodeRedisClient;

/** One server the store scans (the standalone server, or a master of a Cluster), for clear() and count(). */
export interface RedisNode {
  /** UNLINK each key, one command a key (on a Cluster node, the keys of one page span many slots). */
  unlinkEach(keys: string[]): Promise<void>;
  /** GET each key: its value, `null` when missing, or the Redis error its GET answered (WRONGTYPE for a legacy hash). */
  getEach(keys: string[]): Promise<Array<string | null | Error>>;
  /** HMGET: the fields' values, `null` for each missing one. */
  hmget(key: string, fields: string[]): Promise<Array<string | null>>;
}

/**
 * What RedisStore sends. Replies are as both libraries decode them by default (RESP2, or node-redis's RESP3 with its
 * default type mapping): bulk strings as strings, integers as numbers, nil as `null`, arrays (and Lua tables) as
 * arrays. Arguments are strings.
 */
export interface RedisCommands {
  /** Whether keys live on more than one node (ioredis `Cluster`): then no script may touch two slots. */
  readonly isCluster: boolean;
  /** Called before each command (the ioredis socket cork of redis-write-batch.ts; nothing for node-redis). */
  readonly beforeWrite: BeforeWrite;
  /** EVALSHA; rejects with an error whose message starts with NOSCRIPT when the server does not have the script. */
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  /** EVAL, which also caches the script on the server. */
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /** The key of the GET a Redis error reply answered, for the WRONGTYPE fallback to a legacy hash. */
  keyOfFailedGet(error: unknown): string | undefined;
  /** `SET key value PXAT expireAt` (ms since the epoch). */
  set(key: string, value: string, expireAt: string): Promise<unknown>;
  zrem(key: string, members: string[]): Promise<unknown>;
  /** HGETALL as an object; `{}` for a missing key. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** Call `onPage` with each page of keys matching the SCAN pattern, master by master. */
  scanEachMaster(pattern: string, onPage: (node: RedisNode, keys: string[]) => Promise<void>): Promise<void>;
}

/** Whether a script call failed because the server does not have the script: the same message from both libraries. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

function isNodeRedisClient(client: object): client is NodeRedisClient {
  const candidate = client as Partial<Record<"sendCommand" | "evalSha" | "scanIterator", unknown>>;
  return typeof candidate.sendCommand === "function" && typeof candidate.evalSha === "function" && typeof candidate.scanIterator === "function";
}

/**
 * The commands of a client, by the library that made it.
 * @throws {TypeError} when `client` is neither an ioredis `Redis`/`Cluster` nor a node-redis v5 standalone client, or
 *   is an ioredis client with a `keyPrefix`
 */
export function commandsOf(client: unknown): RedisCommands {
  if (typeof client !== "object" || client === null) throw unsupportedClient();
  // ioredis first: its clients have a sendCommand too, of another signature.
  if (typeof (client as Partial<Redis>).evalsha === "function") return new IoredisCommands(client as Redis | Cluster);
  if (isNodeRedisClient(client)) return new NodeRedisCommands(client);
  if (typeof (client as { evalSha?: unknown }).evalSha === "function") {
    throw new TypeError(
      "RedisStore: of node-redis's clients only a standalone one (createClient()) is supported, not createCluster(), createSentinel() or createClientPool(); for Redis Cluster pass an ioredis Cluster",
    );
  }
  throw unsupportedClient();
}

function unsupportedClient(): TypeError {
  return new TypeError("RedisStore: the client option must be an ioredis Redis or Cluster instance, or a node-redis v5 client (createClient())");
}
