/**
 * RedisStore's commands through ioredis (redis-client.ts): its typed methods, the socket cork of redis-write-batch.ts,
 * and a Cluster's masters for clear() and count().
 */
import type { Cluster, Redis } from "ioredis";
import type { RedisCommands, RedisNode } from "./redis-client.js";
import { scanEachMaster, throwPipelineError } from "./redis-scan.js";
import { writeBatcherOf, type BeforeWrite } from "./redis-write-batch.js";

function keyPrefixOf(client: Redis | Cluster): string | undefined {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix || options.redisOptions?.keyPrefix || undefined;
}

/** One master, its commands batched in a pipeline (one write, one round trip a page). */
class IoredisNode implements RedisNode {
  constructor(private readonly node: Redis) {}

  async unlinkEach(keys: string[]): Promise<void> {
    const pipeline = this.node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    throwPipelineError(await pipeline.exec());
  }

  async getEach(keys: string[]): Promise<Array<string | null | Error>> {
    const pipeline = this.node.pipeline();
    for (const key of keys) pipeline.get(key);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply]) => error ?? (reply as string | null));
  }

  hmget(key: string, fields: string[]): Promise<Array<string | null>> {
    return this.node.hmget(key, ...fields);
  }
}

export class IoredisCommands implements RedisCommands {
  readonly isCluster: boolean;
  readonly beforeWrite: BeforeWrite;

  /** @throws {TypeError} when the client has a `keyPrefix` */
  constructor(private readonly client: Redis | Cluster) {
    if (keyPrefixOf(client) !== undefined) {
      // SCAN MATCH patterns are not prefixed by ioredis, so clear()/count() would miss or double-prefix keys.
      throw new TypeError("RedisStore: the client's keyPrefix option is not supported; use the prefix option instead");
    }
    this.isCluster = client.isCluster;
    this.beforeWrite = writeBatcherOf(client);
  }

  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown> {
    return this.client.evalsha(sha, keys.length, ...keys, ...args);
  }

  eval(source: string, keys: string[], args: string[]): Promise<unknown> {
    return this.client.eval(source, keys.length, ...keys, ...args);
  }

  get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  /** ioredis sets `command` (`{ name, args }`) on every error reply (its README, "Error Handling"). */
  keyOfFailedGet(error: unknown): string | undefined {
    const key = (error as { command?: { args?: unknown[] } } | null)?.command?.args?.[0];
    return typeof key === "string" ? key : undefined;
  }

  set(key: string, value: string, expireAt: string): Promise<unknown> {
    return this.client.set(key, value, "PXAT", expireAt);
  }

  zrem(key: string, members: string[]): Promise<unknown> {
    return this.client.zrem(key, ...members);
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.client.hgetall(key);
  }

  scanEachMaster(pattern: string, onPage: (node: RedisNode, keys: string[]) => Promise<void>): Promise<void> {
    return scanEachMaster(this.client, pattern, (node, keys) => onPage(new IoredisNode(node), keys));
  }
}
