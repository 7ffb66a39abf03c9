/**
 * MemcachedStore against the real server: the shared contract, then what only this backend has (revocation by
 * per-user epoch and namespace generation, failing closed when a counter is evicted, exptime conversion past 30 days).
 */
import { createHash } from "node:crypto";
import net from "node:net";
import { MemcacheClient } from "memcache-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/core/types.js";
import { MEMCACHED_MAX_RELATIVE_EXPTIME, MemcachedStore, memcachedExptime } from "../src/stores/memcached.js";
import { runStoreContract } from "../src/testing/index.js";
import { recordAt } from "./records.js";
import { MEMCACHED_URL, memcachedReachable, uniqueSuffix } from "./servers.js";

const reachable = await memcachedReachable();
const run = uniqueSuffix();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/** The remaining TTL memcached holds for `key`, via the meta-get `t` flag (-1 = never expires, null = missing). */
/** Send one raw command to the memcached server and resolve with its whole reply (complete once it ends with `end`). */
function serverCommand(command: string, end: string): Promise<string> {
  const [host = "127.0.0.1", port = "11211"] = MEMCACHED_URL.replace(/^.*:\/\//, "").split(":");
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(`${command}\r\n`));
    let reply = "";
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (!reply.endsWith(end)) return;
      socket.end();
      resolve(reply);
    });
    socket.once("error", reject);
  });
}

/** The seconds memcached says are left on `key` (`mg <key> t`), or `null` when it holds no such key. */
async function serverTtl(key: string): Promise<number | null> {
  const reply = await serverCommand(`mg ${key} t`, "\r\n");
  const ttl = /^HD t(-?\d+)/.exec(reply);
  return reply.startsWith("EN") ? null : ttl ? Number(ttl[1]) : NaN;
}

/**
 * The server's clock (`stats` "time", unix seconds): memcached ticks its own second counter from a timer, which lags
 * behind the wall clock on a loaded machine (by 5 s once in CI), and counts an absolute exptime's TTL from it.
 */
async function serverTime(): Promise<number> {
  const reply = await serverCommand("stats", "END\r\n");
  return Number(/^STAT time (\d+)\r$/m.exec(reply)![1]);
}

describe("memcachedExptime", () => {
  const now = 1_800_000_000_000;

  it("uses seconds from now, rounded up, up to 30 days", () => {
    expect(memcachedExptime(now + 90_000, now)).toBe(90);
    expect(memcachedExptime(now + 1, now)).toBe(1);
    expect(memcachedExptime(now + 30 * DAY, now)).toBe(MEMCACHED_MAX_RELATIVE_EXPTIME);
  });

  it("switches to a unix timestamp beyond 30 days (memcached would read a larger relative value as a 1970 date)", () => {
    expect(memcachedExptime(now + 30 * DAY + 1000, now)).toBe(Math.ceil((now + 30 * DAY + 1000) / 1000));
    expect(memcachedExptime(now + 40 * DAY, now)).toBe((now + 40 * DAY) / 1000);
  });

  it("returns -1 (expire at once), never 0 (never expire), for an expired record", () => {
    expect(memcachedExptime(now, now)).toBe(-1);
    expect(memcachedExptime(now - 5000, now)).toBe(-1);
    expect(memcachedExptime(Number.NaN, now)).toBe(-1);
  });
});

describe.skipIf(!reachable)("MemcachedStore", () => {
  const stores: MemcachedStore[] = [];
  let raw: MemcacheClient;

  function openStore(prefix: string, now?: () => number): MemcachedStore {
    const store = new MemcachedStore({ servers: MEMCACHED_URL, prefix, now });
    stores.push(store);
    return store;
  }

  beforeAll(() => {
    raw = new MemcacheClient({ server: MEMCACHED_URL });
  });

  afterAll(async () => {
    for (const store of stores) await store.clear();
    await Promise.all(stores.map((store) => store.close()));
    raw.shutdown();
  });

  runStoreContract("MemcachedStore", {
    capabilities: { listByUser: false, nativeTtl: true, count: false },
    create: ({ namespace, now }) => new MemcachedStore({ servers: MEMCACHED_URL, prefix: `${namespace}:`, now }),
  });

  describe("revocation by epoch", () => {
    it("destroyByUser() revokes sessions read through another handle, keeps except, and a second revoke takes it too", async () => {
      const prefix = `cr:${run}:epoch:`;
      const [a, b] = [openStore(prefix), openStore(prefix)];
      const now = Date.now();
      const [current, laptop, phone] = ["current", "laptop", "phone"];
      for (const key of [current, laptop, phone]) await a.create(key, recordAt(now));
      const bystander = recordAt(now, { userId: "user-2", data: { userId: "user-2" } });
      await a.create("bystander", bystander);

      await b.destroyByUser("user-1", { except: current });
      expect(await a.get(laptop)).toBeNull();
      expect(await a.get(phone)).toBeNull();
      expect(await a.get(current)).toStrictEqual(recordAt(now));
      expect(await a.get("bystander")).toStrictEqual(bystander);

      await a.destroyByUser("user-1");
      expect(await b.get(current)).toBeNull();
      expect(await b.touch(current, now + HOUR, now)).toBe(false);
    });

    it("the except session never reads as gone while destroyByUser() runs concurrently on another handle", async () => {
      const prefix = `cr:${run}:except-race:`;
      const [reader, revoker] = [openStore(prefix), openStore(prefix)];
      const now = Date.now();
      for (let round = 0; round < 100; round++) {
        const [current, other] = [`current-${round}`, `other-${round}`];
        await reader.create(current, recordAt(now));
        await reader.create(other, recordAt(now));
        const reads: Array<Promise<SessionRecord | null>> = [];
        const revoke = revoker.destroyByUser("user-1", { except: current });
        // Reads spread across the revoke's round trips: between the re-stamp and the epoch increment is the risky part.
        for (let i = 0; i < 12; i++) {
          reads.push(reader.get(current));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await revoke;
        expect((await Promise.all(reads)).every((record) => record !== null)).toBe(true);
        expect(await reader.get(current)).not.toBeNull();
        expect(await reader.get(other)).toBeNull();
      }
    });

    it("a revoked record is deleted from memcached when next read", async () => {
      const prefix = `cr:${run}:cleanup:`;
      const store = openStore(prefix);
      await store.create("k", recordAt(Date.now()));
      await store.destroyByUser("user-1");
      expect(await raw.get(`${prefix}s:${digest("k")}`)).toBeDefined();
      expect(await store.get("k")).toBeNull();
      expect(await raw.get(`${prefix}s:${digest("k")}`)).toBeUndefined();
    });

    it("an evicted user epoch fails closed: the user's sessions stay dead after the epoch is re-created", async () => {
      const prefix = `cr:${run}:evicted:`;
      const store = openStore(prefix);
      const now = Date.now();
      await store.create("old", recordAt(now));
      await raw.delete(`${prefix}e:${digest("user-1")}`); // what an LRU eviction does
      expect(await store.get("old")).toBeNull();
      await store.create("new", recordAt(now)); // re-creates the epoch
      expect(await store.get("new")).toStrictEqual(recordAt(now));
      expect(await store.get("old")).toBeNull();
      expect(await store.patch("old", { set: { revived: true } })).toBe(false);
    });

    it("anonymous sessions do not depend on any user epoch", async () => {
      const store = openStore(`cr:${run}:anonymous:`);
      const record = recordAt(Date.now(), { userId: null, data: { cart: [] } });
      await store.create("anon", record);
      await store.destroyByUser("");
      await store.destroyByUser("null");
      expect(await store.get("anon")).toStrictEqual(record);
    });

    it("clear() revokes through the namespace generation; a neighbour prefix keeps its sessions", async () => {
      const prefix = `cr:${run}:generation:`;
      const store = openStore(prefix);
      const neighbour = openStore(`cr:${run}:generation-neighbour:`);
      const now = Date.now();
      await store.create("k", recordAt(now));
      await neighbour.create("k", recordAt(now));
      const before = await raw.get<string>(`${prefix}g`);
      await store.clear();
      const after = await raw.get<string>(`${prefix}g`);
      expect(BigInt(after.value)).toBe(BigInt(before.value) + 1n);
      expect(await store.get("k")).toBeNull();
      expect(await neighbour.get("k")).toStrictEqual(recordAt(now));
    });
  });

  describe("native expiry", () => {
    it("the server-side TTL follows min(idle, absolute) after create and touch", async () => {
      const prefix = `cr:${run}:ttl:`;
      const store = openStore(prefix);
      const now = Date.now();
      await store.create("k", recordAt(now, { idleExpiresAt: now + 90_000 }));
      const created = await serverTtl(`${prefix}s:${digest("k")}`);
      expect(created).toBeGreaterThanOrEqual(88);
      expect(created).toBeLessThanOrEqual(90);
      expect(await store.touch("k", now + 2 * DAY, now)).toBe(true); // capped by the absolute expiry (1 day)
      const touched = await serverTtl(`${prefix}s:${digest("k")}`);
      expect(touched).toBeGreaterThan(DAY / 1000 - 5);
      expect(touched).toBeLessThanOrEqual(DAY / 1000);
    });

    it("a 40-day session is stored with an absolute exptime and stays readable", async () => {
      const prefix = `cr:${run}:long:`;
      const store = openStore(prefix);
      const now = Date.now();
      const record = recordAt(now, { idleExpiresAt: now + 40 * DAY, absoluteExpiresAt: now + 60 * DAY, cookieMaxAge: 40 * DAY });
      await store.create("k", record);
      expect(await store.get("k")).toStrictEqual(record);
      const ttl = await serverTtl(`${prefix}s:${digest("k")}`);
      const serverNow = await serverTime();
      // The unix time the store wrote, counted down on the server's own clock (which may tick between the two reads).
      const left = Math.ceil((now + 40 * DAY) / 1000) - serverNow;
      expect(ttl).toBeGreaterThanOrEqual(left);
      expect(ttl).toBeLessThanOrEqual(left + 1);
      expect(ttl).toBeGreaterThan(40 * DAY / 1000 - 10);
      expect(await store.patch("k", { set: { still: true } })).toBe(true);
      expect((await store.get("k"))?.data.still).toBe(true);
    });
  });

  describe("configuration", () => {
    it("rejects bad options with TypeErrors naming the option", () => {
      expect(() => new MemcachedStore({ servers: MEMCACHED_URL, client: raw })).toThrow(/client option or the servers option/);
      expect(() => new MemcachedStore({ client: raw, prefix: "has space:" })).toThrow(/prefix option/);
      expect(() => new MemcachedStore({ client: raw, prefix: "x".repeat(129) })).toThrow(/prefix option/);
      expect(() => new MemcachedStore({ servers: " " })).toThrow(/servers option/);
      expect(() => new MemcachedStore({ client: {} as never })).toThrow(/client option/);
      expect(() => new MemcachedStore({ client: raw, now: "soon" as never })).toThrow(TypeError);
    });

    it("close() leaves a caller's client open", async () => {
      const store = new MemcachedStore({ client: raw, prefix: `cr:${run}:owned:` });
      await store.close();
      await expect(raw.version()).resolves.toBeDefined();
    });
  });
});

describe("MemcachedStore when memcached is unreachable", () => {
  it("get() rejects with an Error whose cause is the driver's error", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const store = new MemcachedStore({ servers: `127.0.0.1:${port}`, prefix: "cr:down:" });
    try {
      const error = await store.get("k").then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^MemcachedStore\.get failed: /);
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      await store.close();
    }
  });
});
