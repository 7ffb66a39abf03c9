/**
 * Records written by the previous RedisStore format (a hash per session, a sorted set per user), written here with
 * raw Redis commands exactly as that version wrote them, then used through the current store: read old, write new.
 * Once per client library of the store (redis-clients.ts); the old records are written through ioredis.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/core/types.js";
import { RedisStore } from "../src/stores/redis.js";
import { storeClients, type StoreClient } from "./redis-clients.js";
import { REDIS_URL, redisReachable, uniqueSuffix } from "./servers.js";

const reachable = await redisReachable();
const run = uniqueSuffix();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function recordAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "user-1",
    data: { userId: "user-1", cart: [{ sku: "a|b", qty: 2 }], empty: [], big: 2 ** 60 },
    createdAt: now - MINUTE,
    touchedAt: now - MINUTE,
    idleExpiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: 30 * MINUTE,
    version: 3,
    meta: { ip: "203.0.113.9", userAgent: "curl/8" },
    ...overrides,
  };
}

/** What the previous RedisStore's CREATE script wrote: HSET of the fields, PEXPIREAT, ZADD to `u:<userId>`. */
async function writeLegacy(admin: Redis, prefix: string, key: string, record: SessionRecord): Promise<void> {
  const fields = [
    "ca", String(record.createdAt),
    "ta", String(record.touchedAt),
    "ia", String(record.idleExpiresAt),
    "aa", String(record.absoluteExpiresAt),
    "cm", JSON.stringify(record.cookieMaxAge),
    "v", String(record.version),
    "m", JSON.stringify(record.meta),
  ];
  if (record.userId !== null) fields.push("u", record.userId);
  for (const [name, value] of Object.entries(record.data)) fields.push(`d:${name}`, JSON.stringify(value));
  const sessionKey = `${prefix}s:${key}`;
  await admin.del(sessionKey);
  await admin.hset(sessionKey, ...fields);
  await admin.pexpireat(sessionKey, Math.ceil(Math.min(record.idleExpiresAt, record.absoluteExpiresAt)));
  if (record.userId !== null) {
    await admin.zadd(`${prefix}u:${record.userId}`, record.absoluteExpiresAt, key);
    await admin.pexpireat(`${prefix}u:${record.userId}`, record.absoluteExpiresAt);
  }
}

describe.skipIf(!reachable).each(storeClients)("RedisStore with records of the previous (hash) format ($name)", (library) => {
  let admin: Redis;
  let client: StoreClient;
  const stores: RedisStore[] = [];

  function openStore(name: string): { store: RedisStore; prefix: string } {
    const prefix = `cloakroom:test:${run}:legacy-${name}:`;
    const store = new RedisStore({ client: client.client, prefix });
    stores.push(store);
    return { store, prefix };
  }

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    client = await library.connect(REDIS_URL);
  });

  afterAll(async () => {
    for (const store of stores) await store.clear();
    await Promise.all([admin.quit(), client.quit()]);
  });

  it("get() loads an old record exactly, logged-in or anonymous, and leaves it as it was", async () => {
    const { store, prefix } = openStore("get");
    const now = Date.now();
    const record = recordAt(now);
    const anonymous = recordAt(now, { userId: null, data: { cart: [] }, cookieMaxAge: null, meta: {} });
    await writeLegacy(admin, prefix, "old", record);
    await writeLegacy(admin, prefix, "anon", anonymous);
    expect(await store.get("old")).toEqual(record);
    expect(await store.get("anon")).toEqual(anonymous);
    expect(await admin.type(`${prefix}s:old`)).toBe("hash");
  });

  it("patch() rewrites an old record in the new format, then applies the patch", async () => {
    const { store, prefix } = openStore("patch");
    const now = Date.now();
    const record = recordAt(now);
    await writeLegacy(admin, prefix, "old", record);
    expect(await store.patch("old", { set: { theme: "dark" }, unset: ["empty"], idleExpiresAt: now + 20 * MINUTE })).toBe(true);
    expect(await admin.type(`${prefix}s:old`)).toBe("string");
    const { empty: _empty, ...kept } = record.data;
    expect(await store.get("old")).toEqual({ ...record, data: { ...kept, theme: "dark" }, idleExpiresAt: now + 20 * MINUTE, version: 4 });
    expect(await admin.pexpiretime(`${prefix}s:old`)).toBe(now + 20 * MINUTE);
  });

  it("touch() rewrites and slides an old record; patch()/touch() of an expired old record change nothing", async () => {
    const { store, prefix } = openStore("touch");
    const now = Date.now();
    await writeLegacy(admin, prefix, "old", recordAt(now));
    expect(await store.touch("old", now + 40 * MINUTE, now)).toBe(true);
    expect(await store.get("old")).toMatchObject({ touchedAt: now, idleExpiresAt: now + 40 * MINUTE, version: 4 });

    // Expired by the store's clock but not yet by Redis: nothing is written.
    const late = new RedisStore({ client: client.client, prefix, now: () => now + 2 * HOUR });
    await writeLegacy(admin, prefix, "stale", recordAt(now));
    expect(await late.patch("stale", { set: { a: 1 } })).toBe(false);
    expect(await late.touch("stale", now + 3 * HOUR, now + 2 * HOUR)).toBe(false);
    expect(await admin.type(`${prefix}s:stale`)).toBe("hash");
  });

  it("concurrent patches of different keys on one old record all survive the migration", async () => {
    const { store, prefix } = openStore("race");
    await writeLegacy(admin, prefix, "old", recordAt(Date.now()));
    const other = new RedisStore({ client: admin, prefix });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).patch("old", { set: { [`k${i}`]: i } })),
    );
    expect(results.every(Boolean)).toBe(true);
    const loaded = await store.get("old");
    for (let i = 0; i < 20; i += 1) expect(loaded?.data[`k${i}`]).toBe(i);
    expect(loaded?.version).toBe(3 + 20);
  });

  it("listByUser() lists old and new sessions of a user once each, newest first, and count() counts both", async () => {
    const { store, prefix } = openStore("list");
    const now = Date.now();
    await writeLegacy(admin, prefix, "old-a", recordAt(now, { createdAt: now - 3 * MINUTE }));
    await writeLegacy(admin, prefix, "old-b", recordAt(now, { createdAt: now - 2 * MINUTE }));
    await store.create("new", recordAt(now, { createdAt: now - MINUTE }));
    await store.patch("old-b", { set: { seen: true } }); // now a new-format record, still in the old sorted set
    await writeLegacy(admin, prefix, "someone-else", recordAt(now, { userId: "user-2", data: { userId: "user-2" } }));
    expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["new", "old-b", "old-a"]);
    expect(await store.count()).toBe(4);
  });

  it("destroy() deletes an old record and its old index member; destroyByUser() deletes both formats", async () => {
    const { store, prefix } = openStore("destroy");
    const now = Date.now();
    await writeLegacy(admin, prefix, "old-a", recordAt(now));
    await writeLegacy(admin, prefix, "old-b", recordAt(now));
    await writeLegacy(admin, prefix, "old-c", recordAt(now));
    await store.create("new", recordAt(now));
    await store.destroy("old-a");
    expect(await store.get("old-a")).toBeNull();
    expect(await admin.zscore(`${prefix}u:user-1`, "old-a")).toBeNull();

    expect(await store.destroyByUser("user-1", { except: "old-c" })).toBe(2);
    expect((await store.listByUser("user-1")).map((s) => s.key)).toEqual(["old-c"]);
    expect(await admin.zrange(`${prefix}u:user-1`, "0", "-1")).toEqual(["old-c"]);
  });
});
