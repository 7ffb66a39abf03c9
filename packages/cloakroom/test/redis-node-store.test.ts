/**
 * RedisStore over a node-redis v5 client (`createClient()`, what connect-redis v9 users have), against the real
 * standalone Redis: the shared store contract under RESP2 (node-redis's default) and RESP3, sessions shared with an
 * ioredis-backed store on the same prefix in both directions, the clients it refuses, and failing fast when Redis is
 * down. (The create batch, read and legacy-format suites, and the glob-safe prefix test of redis.store.test.ts, run over
 * node-redis too: redis-clients.ts's `storeClients`.)
 */
import { Redis } from "ioredis";
import { createClient, createClientPool, createCluster, createSentinel } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../src/stores/redis.js";
import { runStoreContract } from "../src/testing/index.js";
import { ClientOwningRedisStore, nodeRedisLibrary, type StoreClient, type StoreClientLibrary } from "./redis-clients.js";
import { recordAt } from "./records.js";
import { REDIS_URL, closedPort, redisReachable, uniqueSuffix } from "./servers.js";

const reachable = await redisReachable();
const run = uniqueSuffix();
const RESP2 = nodeRedisLibrary();
const RESP3 = nodeRedisLibrary({ RESP: 3 });

describe.skipIf(!reachable).each([RESP2, RESP3])("RedisStore on standalone Redis ($name)", (library: StoreClientLibrary) => {
  runStoreContract(`RedisStore (${library.name})`, {
    capabilities: { listByUser: true, nativeTtl: true, count: true },
    create: async ({ namespace, now }) => {
      const owned = await library.connect(REDIS_URL);
      return new ClientOwningRedisStore({ client: owned.client, prefix: `cloakroom:test:${run}:${namespace}:`, now }, () => owned.quit());
    },
  });
});

describe.skipIf(!reachable)("RedisStore over node-redis beside RedisStore over ioredis, on one prefix", () => {
  let ioredis: Redis;
  let nodeRedis: StoreClient;
  const prefixes: string[] = [];

  /** The two stores on one fresh prefix: `a` over ioredis, `b` over node-redis. */
  function pair(name: string): { viaIoredis: RedisStore; viaNodeRedis: RedisStore } {
    const prefix = `cloakroom:test:${run}:pair-${name}:`;
    prefixes.push(prefix);
    return { viaIoredis: new RedisStore({ client: ioredis, prefix }), viaNodeRedis: new RedisStore({ client: nodeRedis.client, prefix }) };
  }

  beforeAll(async () => {
    ioredis = new Redis(REDIS_URL);
    nodeRedis = await RESP2.connect(REDIS_URL);
  });

  afterAll(async () => {
    for (const prefix of prefixes) await new RedisStore({ client: ioredis, prefix }).clear();
    await Promise.all([ioredis.quit(), nodeRedis.quit()]);
  });

  for (const [writer, reader] of [
    ["ioredis", "node-redis"],
    ["node-redis", "ioredis"],
  ] as const) {
    it(`sessions created through ${writer} are read, patched, listed and revoked through ${reader}`, async () => {
      const stores = pair(`${writer}-first`);
      const [write, read] = writer === "ioredis" ? [stores.viaIoredis, stores.viaNodeRedis] : [stores.viaNodeRedis, stores.viaIoredis];
      const now = Date.now();
      await Promise.all([
        write.create("a", recordAt(now - 2)),
        write.create("b", recordAt(now - 1)),
        write.create("c", recordAt(now)),
        write.create("anon", recordAt(now, { userId: null, data: { cart: [] } })),
      ]);
      expect(await read.get("a")).toEqual(recordAt(now - 2));
      expect(await read.patch("a", { set: { theme: "dark" } })).toBe(true);
      expect(await write.get("a")).toMatchObject({ data: { userId: "user-1", theme: "dark" }, version: 1 });
      expect((await read.listByUser("user-1")).map((session) => session.key)).toEqual(["c", "b", "a"]);
      expect(await read.count()).toBe(4);
      expect(await read.destroyByUser("user-1", { except: "b" })).toBe(2);
      expect((await write.listByUser("user-1")).map((session) => session.key)).toEqual(["b"]);
      expect(await write.get("anon")).toMatchObject({ userId: null, data: { cart: [] } });
    });
  }
});

describe("RedisStore's client option with node-redis", () => {
  it("refuses node-redis's cluster, sentinel and pool clients with a TypeError naming what is supported", () => {
    const clients = [
      createCluster({ rootNodes: [{ url: REDIS_URL }] }),
      createSentinel({ name: "mymaster", sentinelRootNodes: [{ host: "127.0.0.1", port: 26379 }] }),
      createClientPool({ url: REDIS_URL }),
    ];
    for (const client of clients) {
      expect(() => new RedisStore({ client: client as never })).toThrow(TypeError);
      expect(() => new RedisStore({ client: client as never })).toThrow(/only a standalone one \(createClient\(\)\).*ioredis Cluster/);
    }
  });

  it("accepts a standalone client before it connects, and refuses objects of neither library", () => {
    expect(() => new RedisStore({ client: createClient({ url: REDIS_URL }) })).not.toThrow();
    expect(() => new RedisStore({ client: { sendCommand: () => Promise.resolve(null) } as never })).toThrow(/ioredis Redis or Cluster instance, or a node-redis v5 client/);
  });
});

describe("RedisStore over node-redis when Redis is unreachable", () => {
  it("get() and create() reject promptly with the store's error, the driver's as cause", async () => {
    const client = await RESP2.unreachable(await closedPort());
    const store = new RedisStore({ client: client.client });
    const started = Date.now();
    try {
      const outcomes = await Promise.allSettled([store.get("k"), store.create("k", recordAt(Date.now()))]);
      for (const [outcome, operation] of [
        [outcomes[0], "get"],
        [outcomes[1], "create"],
      ] as const) {
        expect(outcome.status).toBe("rejected");
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(reason.message).toMatch(new RegExp(`^RedisStore\\.${operation} failed: `));
        expect(reason.cause).toBeInstanceOf(Error);
      }
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await client.quit();
    }
  });
});
