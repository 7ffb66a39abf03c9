/**
 * How RedisStore writes new sessions, against a real Redis: the creates of one tick in one CREATE call and one socket
 * write, their order among the store's other commands, the index bucket's expiry and the pruning done on create.
 * Once per client library (redis-clients.ts: each ioredis major, node-redis 5). (Which buckets the store skips checking:
 * src/stores/redis-bucket-expiry.test.ts.)
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/core/types.js";
import { RedisStore } from "../src/stores/redis.js";
import { DEFAULT_INDEX_BUCKETS, indexSlotOf } from "../src/stores/redis-index.js";
import { PRUNE_EVERY } from "../src/stores/redis-scripts.js";
import { storeClients, type StoreClient } from "./redis-clients.js";
import { REDIS_URL, closedPort, redisReachable, uniqueSuffix } from "./servers.js";

const reachable = await redisReachable();
const run = uniqueSuffix();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function recordAt(now: number, userId: string | null, absoluteMs = 24 * HOUR): SessionRecord {
  return {
    userId,
    data: userId === null ? { cart: [] } : { userId },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + absoluteMs,
    cookieMaxAge: null,
    version: 0,
    meta: {},
  };
}

/** The index bucket of a user (a plain id) under `prefix`, and the member a session key has there. */
function indexOf(prefix: string, userId: string, key: string): { bucket: string; member: string } {
  const { bucket, tag } = indexSlotOf(userId, DEFAULT_INDEX_BUCKETS);
  return { bucket: `${prefix}i:${bucket}`, member: tag + key };
}

describe.skipIf(!reachable).each(storeClients)("RedisStore.create on standalone Redis ($name)", (library) => {
  let admin: Redis;
  const clients: StoreClient[] = [];
  const stores: RedisStore[] = [];

  async function open(name: string): Promise<{ store: RedisStore; client: StoreClient; prefix: string }> {
    const prefix = `cloakroom:test:${run}:create-${name}:`;
    const client = await library.connect(REDIS_URL);
    const store = new RedisStore({ client: client.client, prefix });
    clients.push(client);
    stores.push(store);
    return { store, client, prefix };
  }

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    for (const store of stores) await store.clear();
    await Promise.all([...clients.map((client) => client.quit()), admin.quit()]);
  });

  // node-redis writes the commands of one turn in one burst itself, from a socket it keeps private.
  it.runIf(library.corked)("the creates of one tick reach Redis in one socket write, and the socket is uncorked afterwards", async () => {
    const { store, client: handle } = await open("burst");
    const client = handle.client as Redis;
    // A first create loads CREATE on the server: on an empty script cache the EVALSHA below would be followed by an EVAL.
    await store.create("warm-up", recordAt(Date.now(), null));
    const socket = client.stream;
    let writes = 0;
    // Count the socket's writes to the kernel (one _writev for a corked burst, one _write per uncorked command).
    for (const method of ["_write", "_writev"] as const) {
      const original = socket[method] as (...args: unknown[]) => void;
      socket[method] = function (this: unknown, ...args: unknown[]) {
        writes += 1;
        return original.apply(this, args);
      } as never;
    }
    const now = Date.now();
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key, i) => store.create(key, recordAt(now, i % 3 === 0 ? null : `user-${i}`))));
    expect(writes).toBe(1);
    expect(socket.writableCorked).toBe(0);
    const records = await Promise.all(keys.map((key) => store.get(key)));
    expect(records.map((record) => record?.userId)).toEqual(keys.map((_, i) => (i % 3 === 0 ? null : `user-${i}`)));
    expect((await store.listByUser("user-5")).map((session) => session.key)).toEqual(["k5"]);
  });

  it("every key CREATE writes is one of its KEYS (the scripting contract Dragonfly and proxies rely on)", async () => {
    const { store, client, prefix } = await open("declared");
    const declared = new Set<string>();
    client.onEvalsha((args) => {
      const numkeys = Number(args[1]);
      for (const key of args.slice(2, 2 + numkeys)) declared.add(key);
    });
    const now = Date.now();
    const keys = Array.from({ length: 20 }, (_, i) => `d${i}`);
    await Promise.all(keys.map((key, i) => store.create(key, recordAt(now, i % 2 === 0 ? null : `user-${i % 5}`))));
    const written = await admin.keys(`${prefix}*`);
    expect(written.length).toBe(keys.length + 5); // the sessions, and the buckets of users 0 to 4
    for (const key of written) expect(declared).toContain(key);
  });

  it("a create is sent before a later command of the same tick: destroy wins, get sees the record", async () => {
    const { store } = await open("order");
    const now = Date.now();
    await Promise.all([store.create("gone", recordAt(now, "user-1")), store.destroy("gone")]);
    expect(await store.get("gone")).toBeNull();
    expect(await store.listByUser("user-1")).toEqual([]);
    const [, seen] = await Promise.all([store.create("here", recordAt(now, "user-1")), store.get("here")]);
    expect(seen?.userId).toBe("user-1");
  });

  it("a bucket's expiry is set when the bucket is new and only ever moves later (to the hour)", async () => {
    const { store, prefix } = await open("bucket-ttl");
    const now = Date.now();
    const { bucket } = indexOf(prefix, "user-1", "a");
    const hourOf = (record: SessionRecord): number => Math.ceil(record.absoluteExpiresAt / HOUR) * HOUR;
    const long = recordAt(now, "user-1", 24 * HOUR);
    await store.create("a", long);
    expect(await admin.pexpiretime(bucket)).toBe(hourOf(long));
    await store.create("b", recordAt(now, "user-1", 2 * HOUR));
    expect(await admin.pexpiretime(bucket)).toBe(hourOf(long));
    const longer = recordAt(now, "user-1", 48 * HOUR);
    await store.create("c", longer);
    expect(await admin.pexpiretime(bucket)).toBe(hourOf(longer));
  });

  it("a bucket deleted after the store saw its expiry comes back without one: it outlives its members, never the reverse", async () => {
    const { store, prefix } = await open("bucket-gone");
    const now = Date.now();
    const { bucket } = indexOf(prefix, "user-1", "a");
    await store.create("a", recordAt(now, "user-1"));
    await store.destroy("a"); // its last member: Redis deletes the bucket
    expect(await admin.exists(bucket)).toBe(0);
    await store.create("b", recordAt(now, "user-1"));
    expect(await admin.pexpiretime(bucket)).toBe(-1);
    expect((await store.listByUser("user-1")).map((session) => session.key)).toEqual(["b"]);
  });

  it(`the first create and then one in ${PRUNE_EVERY} prune members past their absolute expiry from the bucket`, async () => {
    const { store, prefix } = await open("prune");
    const now = Date.now();
    const past = Math.floor(now / 1000) - 10;
    const dead = (key: string): { bucket: string; member: string } => indexOf(prefix, "user-1", key);
    await admin.zadd(dead("old-1").bucket, past, dead("old-1").member);
    await store.create("s0", recordAt(now, "user-1"));
    expect(await admin.zscore(dead("old-1").bucket, dead("old-1").member)).toBeNull();

    await admin.zadd(dead("old-2").bucket, past, dead("old-2").member);
    for (let i = 1; i < PRUNE_EVERY; i++) await store.create(`s${i}`, recordAt(now, "user-1"));
    expect(await admin.zscore(dead("old-2").bucket, dead("old-2").member)).not.toBeNull();
    await store.create(`s${PRUNE_EVERY}`, recordAt(now, "user-1"));
    expect(await admin.zscore(dead("old-2").bucket, dead("old-2").member)).toBeNull();
    expect(await admin.zcard(dead("old-2").bucket)).toBe(PRUNE_EVERY + 1);
  });
});

describe.each(storeClients)("RedisStore.create when Redis is unreachable ($name)", (library) => {
  it("every create of a batch rejects with the store's error, the driver's error as cause", async () => {
    const client = await library.unreachable(await closedPort());
    const store = new RedisStore({ client: client.client });
    try {
      const now = Date.now();
      const outcomes = await Promise.allSettled([store.create("a", recordAt(now, "user-1")), store.create("b", recordAt(now, null))]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe("rejected");
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(reason.message).toMatch(/^RedisStore\.create failed: /);
        expect(reason.cause).toBeInstanceOf(Error);
      }
    } finally {
      await client.quit();
    }
  });
});
