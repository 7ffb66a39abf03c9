/**
 * The client libraries the Redis suites run against: the ioredis majors, one entry each, and node-redis 5
 * ({@link storeClients}). The ioredis majors: the package's peer range is `ioredis >= 5`, and
 * the majors differ where a store meets its client (ioredis 6 decodes replies itself and defines a String subclass;
 * ioredis 5 parses them with redis-parser). A suite loops over this list (`describe.each(redisClients)`) rather than
 * being copied per major.
 */
import { Cluster as Cluster6, Redis as Redis6 } from "ioredis";
import { Cluster as Cluster5, Redis as Redis5 } from "ioredis5";
import { createClient } from "redis";
import type { RedisClient as StoreClientOption } from "../src/stores/redis-client.js";
import { RedisStore, type RedisStoreOptions } from "../src/stores/redis.js";

/** One ioredis major: its constructors and the package name it is installed under. */
export interface RedisClient {
  major: 5 | 6;
  /** What `import()` loads it by (`ioredis5` is an npm alias), for tests that start a fresh process. */
  module: "ioredis" | "ioredis5";
  Redis: typeof Redis6;
  Cluster: typeof Cluster6;
}

export const redisClients: readonly RedisClient[] = [
  { major: 6, module: "ioredis", Redis: Redis6, Cluster: Cluster6 },
  // Typed as ioredis 6's classes, which the library's types resolve `ioredis` to in this repository (an application's
  // resolve to the major it installed); the sources are type-checked against ioredis 5 by tsconfig.ioredis5.json.
  { major: 5, module: "ioredis5", Redis: Redis5 as unknown as typeof Redis6, Cluster: Cluster5 as unknown as typeof Cluster6 },
];

/** A client handed to a RedisStore under test, whichever library made it. */
export interface StoreClient {
  client: StoreClientOption;
  /** Close it (ioredis `quit`, node-redis `close`; a client that never connected is only dropped). */
  quit(): Promise<void>;
  /** Call `listener` with the arguments of every EVALSHA the client sends from now on: sha, numkeys, keys, args. */
  onEvalsha(listener: (args: string[]) => void): void;
}

/**
 * A library the Redis suites give RedisStore's client from: each ioredis major of {@link redisClients}, and node-redis 5
 * (`createClient()`, which connect-redis v9 users have). Suites loop over this list (`describe.each(storeClients)`)
 * and keep their own ioredis client for the assertions' raw commands.
 */
export interface StoreClientLibrary {
  name: string;
  /** Whether RedisStore corks this client's socket (ioredis: redis-write-batch.ts); node-redis batches its writes itself. */
  corked: boolean;
  /** A client connected to `url`, with the library's default options. */
  connect(url: string): Promise<StoreClient>;
  /** A client of a server that is down (`port` is closed), set to fail commands at once rather than retry. */
  unreachable(port: number): Promise<StoreClient>;
}

function ioredisLibrary({ major, Redis }: RedisClient): StoreClientLibrary {
  const handle = (client: Redis6, quit: () => Promise<void>): StoreClient => ({
    client,
    quit,
    onEvalsha(listener) {
      const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
      client.evalsha = ((...args: unknown[]) => {
        listener(args.map(String));
        return evalsha(...args);
      }) as never;
    },
  });
  return {
    name: `ioredis ${major}`,
    corked: true,
    connect: async (url) => {
      const client = new Redis(url);
      return handle(client, async () => void (await client.quit()));
    },
    unreachable: async (port) => {
      const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
      client.on("error", () => {}); // connection errors surface through the rejected commands
      return handle(client, async () => client.disconnect());
    },
  };
}

type NodeRedis = ReturnType<typeof createClient>;

function nodeRedisHandle(client: NodeRedis): StoreClient {
  return {
    client,
    quit: async () => {
      if (client.isOpen) await client.close();
    },
    onEvalsha(listener) {
      const sendCommand = client.sendCommand.bind(client);
      client.sendCommand = ((args: string[], ...rest: unknown[]) => {
        if (args[0] === "EVALSHA") listener(args.slice(1));
        return (sendCommand as (...all: unknown[]) => Promise<unknown>)(args, ...rest);
      }) as never;
    },
  };
}

/** node-redis 5; `RESP: 3` for the suite that checks the replies RedisStore reads under RESP3 as well. */
export function nodeRedisLibrary(options: { RESP?: 2 | 3 } = {}): StoreClientLibrary {
  return {
    name: `node-redis 5${options.RESP === 3 ? ", RESP3" : ""}`,
    corked: false,
    connect: async (url) => nodeRedisHandle(await createClient({ url, ...options }).connect()),
    unreachable: async (port) => {
      const client = createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false }, ...options });
      client.on("error", () => {}); // the failed connect is what the test is about
      await client.connect().catch(() => {});
      return nodeRedisHandle(client);
    },
  };
}

export const storeClients: readonly StoreClientLibrary[] = [...redisClients.map(ioredisLibrary), nodeRedisLibrary()];

/**
 * A RedisStore that owns its test client: the contract suite closes every store it opens, and closing this one also
 * closes the client (by default its `quit()`, which ioredis and node-redis clients both have).
 */
export class ClientOwningRedisStore extends RedisStore {
  constructor(
    options: RedisStoreOptions,
    private readonly closeClient: () => Promise<unknown> = () => (options.client as { quit(): Promise<unknown> }).quit(),
  ) {
    super(options);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.closeClient();
  }
}
