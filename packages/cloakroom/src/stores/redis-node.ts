/**
 * RedisStore's commands through a node-redis v5 standalone client (redis-client.ts). Every command is
 * `sendCommand([...args])`: the typed helpers (`get`, `evalSha`) build a command parser and run an async wrapper per
 * call, which cost the client 1.4–2.4 µs a GET against sendCommand's 1.0–1.2 µs, and 1.9–3.0 µs an EVALSHA against
 * 1.4–2.4 µs (200,000 calls, 512 in flight, three alternations on the loaded machine; bench/README.md, session 14).
 * No cork: node-redis already writes the commands of one turn of the event loop in one burst (redis-write-batch.ts).
 * Replies: RESP2 by default; HGETALL's is a flat array there and an object under RESP3, both read here.
 */
import type { NodeRedisClient, RedisCommands, RedisNode } from "./redis-client.js";
import { SCAN_PAGE } from "./redis-scan.js";

/** Where a failed GET leaves its key on the error (node-redis's error replies carry no command). */
const FAILED_KEY = Symbol("cloakroom.failedKey");

const NOTHING = (): void => {};

/** HGETALL's reply as an object: RESP2's `[field, value, …]`, or RESP3's map, which node-redis makes an object. */
function hashOfReply(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return reply as Record<string, string>;
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i] as string, reply[i + 1] as string]);
  // fromEntries defines own properties, so a field named "__proto__" stays a field.
  return Object.fromEntries(pairs);
}

export class NodeRedisCommands implements RedisCommands, RedisNode {
  readonly isCluster = false;
  readonly beforeWrite = NOTHING;

  constructor(private readonly client: NodeRedisClient) {}

  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown> {
    return this.client.sendCommand(["EVALSHA", sha, String(keys.length)].concat(keys, args));
  }

  eval(source: string, keys: string[], args: string[]): Promise<unknown> {
    return this.client.sendCommand(["EVAL", source, String(keys.length)].concat(keys, args));
  }

  /** The key is kept on a failed GET's error for {@link NodeRedisCommands.keyOfFailedGet}: a closure per read here. */
  get(key: string): Promise<string | null> {
    return (this.client.sendCommand(["GET", key]) as Promise<string | null>).catch((error: unknown) => {
      if (typeof error === "object" && error !== null) (error as { [FAILED_KEY]?: string })[FAILED_KEY] = key;
      throw error;
    });
  }

  keyOfFailedGet(error: unknown): string | undefined {
    return (error as { [FAILED_KEY]?: string } | null)?.[FAILED_KEY];
  }

  set(key: string, value: string, expireAt: string): Promise<unknown> {
    return this.client.sendCommand(["SET", key, value, "PXAT", expireAt]);
  }

  zrem(key: string, members: string[]): Promise<unknown> {
    return this.client.sendCommand(["ZREM", key].concat(members));
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return hashOfReply(await this.client.sendCommand(["HGETALL", key]));
  }

  /** One server: this client's. */
  async scanEachMaster(pattern: string, onPage: (node: RedisNode, keys: string[]) => Promise<void>): Promise<void> {
    for await (const keys of this.client.scanIterator({ MATCH: pattern, COUNT: SCAN_PAGE })) {
      if (keys.length > 0) await onPage(this, keys as string[]);
    }
  }

  // The commands of one page are sent in the same turn, so node-redis writes them in one burst (a pipeline).
  async unlinkEach(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.client.sendCommand(["UNLINK", key])));
  }

  getEach(keys: string[]): Promise<Array<string | null | Error>> {
    const valueOrError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
    return Promise.all(keys.map((key) => (this.client.sendCommand(["GET", key]) as Promise<string | null>).catch(valueOrError)));
  }

  hmget(key: string, fields: string[]): Promise<Array<string | null>> {
    return this.client.sendCommand(["HMGET", key].concat(fields)) as Promise<Array<string | null>>;
  }
}
