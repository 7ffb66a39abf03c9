/**
 * RedisStore against real servers: the shared contract on standalone Redis and on a 3-master Redis Cluster started
 * for this file, then what only this backend has (native TTL = policy, glob-safe prefixes, the user index's crash
 * story on Cluster, failing fast when Redis is down), once per ioredis major (redis-clients.ts).
 */
import type { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStore } from "../src/core/types.js";
import { RedisStore } from "../src/stores/redis.js";
import { DEFAULT_INDEX_BUCKETS, indexSlotOf } from "../src/stores/redis-index.js";
import { runStoreContract } from "../src/testing/index.js";
import { ClientOwningRedisStore, redisClients, storeClients, type StoreClientLibrary } from "./redis-clients.js";
import { recordAt } from "./records.js";
import { redisClusterBinariesAvailable, startRedisCluster, type RedisClusterHandle } from "./redis-cluster.js";
import { REDIS_URL, closedPort, redisReachable, uniqueSuffix } from "./servers.js";

const reachable = await redisReachable();
const clusterRunnable = await redisClusterBinariesAvailable();
const run = uniqueSuffix();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The index bucket of a user (a plain id) under `prefix`, and the member a session key has there. */
function indexOf(prefix: string, userId: string, key: string): { bucket: string; member: string } {
  const { bucket, tag } = indexSlotOf(userId, DEFAULT_INDEX_BUCKETS);
  return { bucket: `${prefix}i:${bucket}`, member: tag + key };
}

/** A loopback port with nothing listening on it. */
/** Every key under `prefix` on every master (SCAN, like the store; for assertions only). */
async function keysUnder(nodes: Redis[], prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

// clear() and count() scan with a MATCH pattern, built on each client library's own SCAN: checked over every one.
describe.skipIf(!reachable).each(storeClients)("RedisStore's prefix over $name", (library: StoreClientLibrary) => {
  it("glob characters in the prefix are literal for clear() and count()", async () => {
    const base = `cloakroom:test:${run}:glob-${library.name.replace(/\W+/g, "-")}:`;
    // Unescaped, the pattern "<base>[ab]*:*" would also match every key of the "<base>a:" store.
    const [one, two] = await Promise.all([library.connect(REDIS_URL), library.connect(REDIS_URL)]);
    const globbed = new ClientOwningRedisStore({ client: one.client, prefix: `${base}[ab]*:` }, () => one.quit());
    const neighbour = new ClientOwningRedisStore({ client: two.client, prefix: `${base}a:` }, () => two.quit());
    try {
      const now = Date.now();
      await globbed.create("mine", recordAt(now));
      await neighbour.create("theirs", recordAt(now));
      expect(await globbed.count()).toBe(1);
      await globbed.clear();
      expect(await globbed.get("mine")).toBeNull();
      expect(await neighbour.get("theirs")).not.toBeNull();
      expect(await neighbour.count()).toBe(1);
    } finally {
      await neighbour.clear();
      await Promise.all([globbed.close(), neighbour.close()]);
    }
  });
});

describe.skipIf(!reachable).each(redisClients)("RedisStore on standalone Redis (ioredis $major)", ({ Redis }) => {
  const stores: SessionStore[] = [];
  let admin: Redis;

  function openStore(prefix: string, now?: () => number): RedisStore {
    const store = new ClientOwningRedisStore({ client: new Redis(REDIS_URL), prefix, now });
    stores.push(store);
    return store;
  }

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    for (const store of stores) await store.clear();
    await Promise.all(stores.map((store) => store.close()));
    await admin.quit();
  });

  runStoreContract("RedisStore (standalone)", {
    capabilities: { listByUser: true, nativeTtl: true, count: true },
    create: ({ namespace, now }) =>
      new ClientOwningRedisStore({ client: new Redis(REDIS_URL), prefix: `cloakroom:test:${run}:${namespace}:`, now }),
  });

  describe("native expiry", () => {
    it("PEXPIRETIME of the session key is min(idle, absolute) after create, touch and patch", async () => {
      const prefix = `cloakroom:test:${run}:ttl:`;
      const store = openStore(prefix);
      const now = Date.now();
      const record = recordAt(now, { idleExpiresAt: now + 10 * MINUTE + 0.4, absoluteExpiresAt: now + HOUR });
      await store.create("k", record);
      expect(await admin.pexpiretime(`${prefix}s:k`)).toBe(Math.ceil(record.idleExpiresAt));
      const pttl = await admin.pttl(`${prefix}s:k`);
      expect(pttl).toBeGreaterThan(10 * MINUTE - 5_000);
      expect(pttl).toBeLessThanOrEqual(10 * MINUTE + 1);
      // The index bucket lives as long as its longest-lived member can, rounded up to the hour.
      expect(await admin.pexpiretime(indexOf(prefix, "user-1", "k").bucket)).toBe(Math.ceil(record.absoluteExpiresAt / 3_600_000) * 3_600_000);

      // A touch past the absolute expiry is capped by it.
      expect(await store.touch("k", now + 2 * HOUR, now)).toBe(true);
      expect(await admin.pexpiretime(`${prefix}s:k`)).toBe(record.absoluteExpiresAt);

      expect(await store.patch("k", { idleExpiresAt: now + 5 * MINUTE, set: { a: 1 } })).toBe(true);
      expect(await admin.pexpiretime(`${prefix}s:k`)).toBe(now + 5 * MINUTE);
    });

    it("a patch that moves the idle expiry into the past removes the key from Redis", async () => {
      const prefix = `cloakroom:test:${run}:ttl-past:`;
      const store = openStore(prefix);
      const now = Date.now();
      await store.create("k", recordAt(now));
      expect(await store.patch("k", { idleExpiresAt: now - 1 })).toBe(true);
      expect(await admin.exists(`${prefix}s:k`)).toBe(0);
      expect(await store.get("k")).toBeNull();
    });

    it("patch() and touch() of a missing key write no key at all", async () => {
      const prefix = `cloakroom:test:${run}:missing:`;
      const store = openStore(prefix);
      expect(await store.patch("k", { set: { userId: "user-1" } })).toBe(false);
      expect(await store.touch("k", Date.now() + HOUR, Date.now())).toBe(false);
      expect(await keysUnder([admin], prefix)).toEqual([]);
    });
  });

  describe("record layout", () => {
    it("a session is one string key; an anonymous one has no index member, a logged-in one a member in its bucket", async () => {
      const prefix = `cloakroom:test:${run}:layout:`;
      const store = openStore(prefix);
      const now = Date.now();
      await store.create("anon", recordAt(now, { userId: null, data: { cart: [] } }));
      expect(await keysUnder([admin], prefix)).toEqual([`${prefix}s:anon`]);
      expect(await admin.type(`${prefix}s:anon`)).toBe("string");
      await store.create("k", recordAt(now));
      const { bucket, member } = indexOf(prefix, "user-1", "k");
      expect((await keysUnder([admin], prefix)).sort()).toEqual([bucket, `${prefix}s:anon`, `${prefix}s:k`].sort());
      expect(await admin.zscore(bucket, member)).toBe(String(Math.ceil(recordAt(now).absoluteExpiresAt / 1000)));
      expect(await admin.object("ENCODING", bucket)).toBe("listpack");
    });

    it("owners that are not data.userId, or need quoting, are stored, listed and revoked as themselves", async () => {
      const prefix = `cloakroom:test:${run}:owners:`;
      const store = openStore(prefix);
      const now = Date.now();
      const owners = ["", '"quoted"', ".dot", "line\nbreak", "ünï ✓", "user-1"];
      for (const [i, userId] of owners.entries()) {
        await store.create(`k${i}`, recordAt(now, { userId, data: i % 2 === 0 ? { userId } : { account: userId } }));
      }
      for (const [i, userId] of owners.entries()) {
        expect(await store.get(`k${i}`)).toMatchObject({ userId });
        expect((await store.listByUser(userId)).map((s) => s.key)).toEqual([`k${i}`]);
      }
      // Changing data.userId changes the data, never the indexed owner.
      expect(await store.patch("k5", { set: { userId: "user-2" } })).toBe(true);
      expect(await store.get("k5")).toMatchObject({ userId: "user-1", data: { account: "user-1", userId: "user-2" } });
      expect(await store.patch("k0", { unset: ["userId"] })).toBe(true);
      expect(await store.get("k0")).toMatchObject({ userId: "", data: {} });
      for (const userId of owners) expect(await store.destroyByUser(userId)).toBe(1);
      expect(await store.count()).toBe(0);
    });
  });

  describe("keys and prefixes", () => {
    it("a dangling index member (its record gone) is removed by listByUser()", async () => {
      const prefix = `cloakroom:test:${run}:dangling:`;
      const store = openStore(prefix);
      const now = Date.now();
      await store.create("live", recordAt(now));
      const ghost = indexOf(prefix, "user-1", "ghost");
      await admin.zadd(ghost.bucket, Math.ceil((now + HOUR) / 1000), ghost.member);
      expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["live"]);
      expect(await admin.zscore(ghost.bucket, ghost.member)).toBeNull();
      expect(await admin.zscore(ghost.bucket, indexOf(prefix, "user-1", "live").member)).not.toBeNull();
    });
  });

  describe("configuration", () => {
    it("rejects an empty prefix, a client with keyPrefix and a missing client with TypeErrors naming the option", () => {
      const client = new Redis(REDIS_URL, { lazyConnect: true });
      const prefixed = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: "app:" });
      try {
        expect(() => new RedisStore({ client, prefix: "" })).toThrow(/prefix option/);
        expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
        expect(() => new RedisStore({} as never)).toThrow(/client option/);
        expect(() => new RedisStore({ client, now: 5 as never })).toThrow(/now option/);
        expect(() => new RedisStore({ client, prefix: "" })).toThrow(TypeError);
      } finally {
        client.disconnect();
        prefixed.disconnect();
      }
    });
  });
});

describe.each(redisClients)("RedisStore when Redis is unreachable (ioredis $major)", ({ Redis }) => {
  it("get() rejects promptly with an Error whose cause is the driver's error", async () => {
    const client = new Redis({
      host: "127.0.0.1",
      port: await closedPort(),
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on("error", () => {}); // connection errors surface through the rejected command
    const store = new RedisStore({ client });
    const started = Date.now();
    try {
      const error = await store.get("k").then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^RedisStore\.get failed: /);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      client.disconnect();
    }
  });
});

describe.skipIf(!clusterRunnable).each(redisClients)("RedisStore on a 3-master Redis Cluster (ioredis $major)", ({ Cluster }) => {
  let cluster: RedisClusterHandle;
  let admin: Cluster;

  function openClusterStore(prefix: string, now?: () => number): RedisStore {
    return new ClientOwningRedisStore({ client: new Cluster(cluster.nodes), prefix, now });
  }

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    admin = new Cluster(cluster.nodes);
    await admin.ping();
  });

  afterAll(async () => {
    await admin?.quit();
    await cluster?.stop();
  });

  runStoreContract("RedisStore (Cluster)", {
    capabilities: { listByUser: true, nativeTtl: true, count: true },
    create: ({ namespace, now }) => openClusterStore(`cloakroom:${namespace}:`, now),
  });

  it("the cluster has 3 masters and a session key and its user index land in different slots", async () => {
    expect(admin.nodes("master")).toHaveLength(3);
    const [sessionSlot, indexSlot] = await Promise.all([
      admin.cluster("KEYSLOT", "cloakroom:x:s:key-1"),
      admin.cluster("KEYSLOT", indexOf("cloakroom:x:", "user-1", "key-1").bucket),
    ]);
    expect(sessionSlot).not.toBe(indexSlot);
  });

  it("count() and clear() reach every master", async () => {
    const prefix = `cloakroom:spread-${run}:`;
    const store = openClusterStore(prefix);
    try {
      const now = Date.now();
      for (let i = 0; i < 60; i++) await store.create(`key-${i}`, recordAt(now, { userId: i % 2 === 0 ? null : `user-${i}` }));
      const masters = admin.nodes("master");
      const perMaster = await Promise.all(masters.map((node) => keysUnder([node], `${prefix}s:`)));
      expect(perMaster.every((keys) => keys.length > 0)).toBe(true);
      expect(await store.count()).toBe(60);
      await store.clear();
      expect(await store.count()).toBe(0);
      expect(await keysUnder(masters, prefix)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("a dangling index member (crash between index and record) is skipped, then pruned once its absolute expiry passes", async () => {
    const prefix = `cloakroom:dangling-${run}:`;
    let now = Date.now();
    const store = openClusterStore(prefix, () => now);
    try {
      const live = recordAt(now);
      await store.create("live", live);
      // What a create leaves when it dies after writing the member and before writing the record.
      const ghost = indexOf(prefix, "user-1", "ghost");
      await admin.zadd(ghost.bucket, Math.ceil((now + HOUR) / 1000), ghost.member);
      expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["live"]);
      // Kept on purpose: from another client it is indistinguishable from a create in flight.
      expect(await admin.zscore(ghost.bucket, ghost.member)).not.toBeNull();
      expect(await store.destroyByUser("user-1")).toBe(1);
      expect(await admin.zscore(ghost.bucket, indexOf(prefix, "user-1", "live").member)).toBeNull();

      now += HOUR + 1_000;
      expect(await store.listByUser("user-1")).toEqual([]);
      expect(await admin.zscore(ghost.bucket, ghost.member)).toBeNull();
    } finally {
      await store.clear();
      await store.close();
    }
  });

  it("with a hash tag in the prefix every key shares one slot and the index is exact", async () => {
    const prefix = `{cloakroom-${run}}:`;
    const store = openClusterStore(prefix);
    try {
      const now = Date.now();
      // Created in one tick: one CREATE call for both, which the shared slot allows on a Cluster.
      await Promise.all([store.create("a", recordAt(now)), store.create("b", recordAt(now - 1))]);
      const ghost = indexOf(prefix, "user-1", "ghost");
      await admin.zadd(ghost.bucket, Math.ceil((now + HOUR) / 1000), ghost.member);
      expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["a", "b"]);
      expect(await admin.zscore(ghost.bucket, ghost.member)).toBeNull();
      expect(await store.destroyByUser("user-1", { except: "b" })).toBe(1);
      expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["b"]);
      expect(await store.count()).toBe(1);
    } finally {
      await store.clear();
      await store.close();
    }
  });
});
