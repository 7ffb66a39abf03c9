import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../src/stores/memory.js";
import { runStoreContract } from "cloakroom/testing";
import type { SessionRecord } from "../src/core/types.js";

// "Two handles on one namespace" is the same instance for an in-process store.
const byNamespace = new Map<string, MemoryStore>();
runStoreContract("MemoryStore", {
  capabilities: { listByUser: true, nativeTtl: false, count: true },
  create({ namespace, now }) {
    let store = byNamespace.get(namespace);
    if (store === undefined) {
      store = new MemoryStore({ now });
      byNamespace.set(namespace, store);
    }
    return store;
  },
});

const HOUR = 3_600_000;

function record(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "u1",
    data: { userId: "u1", cart: ["a"] },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + HOUR,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: null,
    version: 0,
    meta: { ip: "203.0.113.1" },
    ...overrides,
  };
}

describe("MemoryStore", () => {
  const stores: MemoryStore[] = [];
  function open(options: ConstructorParameters<typeof MemoryStore>[0]): MemoryStore {
    const store = new MemoryStore(options);
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  describe("the sweep timer", () => {
    it("removes expired sessions nobody reads again, and their index entries", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      let now = 1_700_000_000_000;
      const store = open({ sweepInterval: 1000, now: () => now });
      await store.create("unread-1", record(now, { idleExpiresAt: now + 500 }));
      await store.create("unread-2", record(now, { userId: null, absoluteExpiresAt: now + 500 }));
      await store.create("live", record(now));
      now += 500;
      expect(store.size).toBe(3); // nothing removes them until the timer fires

      vi.advanceTimersByTime(1000);
      await vi.waitFor(() => expect(store.size).toBe(1));
      expect((await store.listByUser("u1")).map((s) => s.key)).toEqual(["live"]);
      expect(await store.get("live")).not.toBeNull();
    });

    it("stops when the store is closed", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      let now = 1_700_000_000_000;
      const store = open({ sweepInterval: 1000, now: () => now });
      await store.create("k", record(now, { idleExpiresAt: now + 1 }));
      await store.close();
      now += 10;
      vi.advanceTimersByTime(5000);
      await Promise.resolve();
      expect(store.size).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it("is one timer for the store, not one per session", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
      const store = open({});
      for (let i = 0; i < 50; i++) await store.create(`k${i}`, record(Date.now()));
      expect(vi.getTimerCount()).toBe(1);
      open({ sweepInterval: 0 }); // disabled: no timer at all
      expect(vi.getTimerCount()).toBe(1);
    });
  });

  describe("sweep() of a large store", () => {
    it("removes 100,000 expired records in yielding batches and leaves 1,000 live ones", async () => {
      const { monitorEventLoopDelay } = await import("node:perf_hooks");
      const clock = { t: Date.now() };
      const store = open({ now: () => clock.t, sweepInterval: 0 });
      for (let i = 0; i < 100_000; i++) await store.create(`dead-${i}`, record(clock.t, { userId: `u${i % 1000}`, idleExpiresAt: clock.t + 1000 }));
      for (let i = 0; i < 1_000; i++) await store.create(`live-${i}`, record(clock.t, { userId: `live${i}` }));
      clock.t += 2000;
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      const removed = await store.sweep();
      const took = performance.now() - started;
      delay.disable();
      console.log(`MemoryStore sweep: removed ${removed} in ${took.toFixed(0)} ms, worst event-loop stall ${(delay.max / 1e6).toFixed(1)} ms`);
      expect(removed).toBe(100_000);
      expect(store.size).toBe(1_000);
      expect(await store.listByUser("live7")).toHaveLength(1);
      expect(await store.listByUser("u7")).toEqual([]);
    });

    it("yields to the event loop at least every 8,192 records, however fast they go", async () => {
      const clock = { t: Date.now() };
      const store = open({ now: () => clock.t, sweepInterval: 0 });
      for (let i = 0; i < 20_000; i++) await store.create(`dead-${i}`, record(clock.t, { userId: `u${i}`, idleExpiresAt: clock.t + 1000 }));
      clock.t += 2000;
      let turns = 0;
      const sweeping = store.sweep();
      const countTurns = (): void => {
        turns += 1;
        if (store.size > 0) setImmediate(countTurns);
      };
      setImmediate(countTurns);
      expect(await sweeping).toBe(20_000);
      // Without a yield the sweep would have settled before the first turn ran: 20,000 records make at least two.
      expect(turns).toBeGreaterThanOrEqual(1);
      expect(await store.listByUser("u7")).toEqual([]);
    });
  });

  describe("with maxSessions", () => {
    it("evicts the least recently used session (a get counts as use) and keeps the user index in step", async () => {
      const now = Date.now();
      const store = open({ maxSessions: 3 });
      await store.create("a", record(now));
      await store.create("b", record(now));
      await store.create("c", record(now, { userId: "u2", data: { userId: "u2" } }));
      await store.get("a"); // b is now the least recently used

      await store.create("d", record(now, { userId: "u3", data: { userId: "u3" } }));
      expect(store.size).toBe(3);
      expect(await store.get("b")).toBeNull();
      expect((await store.listByUser("u1")).map((s) => s.key)).toEqual(["a"]);

      await store.patch("c", { set: { x: 1 } }); // a write is a use too: a goes next
      await store.create("e", record(now));
      expect(await store.get("a")).toBeNull();
      expect((await store.listByUser("u1")).map((s) => s.key)).toEqual(["e"]);

      await store.create("f", record(now)); // evicts d, u3's only session
      await store.create("g", record(now)); // evicts c, u2's only session
      expect(await store.listByUser("u3")).toEqual([]);
      expect(await store.listByUser("u2")).toEqual([]);
      expect((await store.listByUser("u1")).map((s) => s.key).sort()).toEqual(["e", "f", "g"]);
      expect(await store.count()).toBe(3);
    });
  });

  describe("isolation", () => {
    it("keeps its own copy: mutating the created object, a returned record or a listed record changes nothing", async () => {
      const now = Date.now();
      const store = open({});
      const original = record(now);
      await store.create("k", original);
      (original.data.cart as string[]).push("x");
      original.meta.ip = "198.51.100.1";

      const read = (await store.get("k"))!;
      read.data.userId = "attacker";
      (read.data.cart as string[]).length = 0;
      const [listed] = await store.listByUser("u1");
      listed!.record.version = 42;
      listed!.record.data.cart = ["x"];

      expect(await store.get("k")).toStrictEqual(record(now));
    });

    it("peek(key, now) judges expiry at the caller's reading of Date.now only when the store's own clock is Date.now", async () => {
      const now = Date.now();
      const onDateNow = open({});
      await onDateNow.create("k", record(now));
      expect(onDateNow.peek("k", now + 2 * HOUR)).toBeNull(); // the reading is used: past the idle expiry, and removed
      expect(await onDateNow.get("k")).toBeNull();
      let clock = now;
      const ownClock = open({ now: () => clock });
      await ownClock.create("k", record(now));
      expect(ownClock.peek("k", now + 2 * HOUR)).not.toBeNull(); // another clock: the reading is ignored
      clock += 2 * HOUR;
      expect(ownClock.peek("k", now)).toBeNull();
    });

    it("peek() shares one frozen record until the session changes; get() stays a private copy", async () => {
      const store = open({ maxSessions: 2 });
      await store.create("k", record(Date.now()));
      const peeked = store.peek("k")!;
      expect(Object.isFrozen(peeked) && Object.isFrozen(peeked.data) && Object.isFrozen(peeked.data.cart) && Object.isFrozen(peeked.meta)).toBe(true);
      expect(store.peek("k")).toBe(peeked);
      expect(Object.isFrozen(await store.get("k"))).toBe(false);
      await store.touch("k", peeked.idleExpiresAt + 1, peeked.touchedAt + 1);
      const touched = store.peek("k")!;
      expect(touched).not.toBe(peeked);
      expect(touched.version).toBe(peeked.version + 1);
      // Shared records are bounded as the store is (maxSessions, at most 10,000): an evicted session takes its memo along.
      await store.create("k2", record(Date.now()));
      await store.create("k3", record(Date.now()));
      expect(store.peek("k")).toBeNull(); // evicted by the LRU bound, its memo with it
      expect(store.peek("k2")).toStrictEqual(await store.get("k2"));
      await store.destroy("k2");
      expect(store.peek("k2")).toBeNull();
    });

    it("stores JSON semantics, like the network stores: a Date comes back as its ISO string", async () => {
      const store = open({});
      const when = new Date("2024-01-02T03:04:05.678Z");
      await store.create("k", record(Date.now(), { data: { when } }));
      expect((await store.get("k"))!.data.when).toBe("2024-01-02T03:04:05.678Z");
    });

    it("rejects data that cannot be stored (a BigInt) and keeps the previous record", async () => {
      const store = open({});
      await store.create("k", record(Date.now()));
      await expect(store.create("k", record(Date.now(), { data: { n: 1n } }))).rejects.toThrow(TypeError);
      expect(await store.get("k")).not.toBeNull();
    });
  });

  describe("options", () => {
    it.each([
      [{ maxSessions: 0 }, /maxSessions/],
      [{ maxSessions: 1.5 }, /maxSessions/],
      [{ sweepInterval: -1 }, /sweepInterval/],
      [{ sweepInterval: 2 ** 31 }, /sweepInterval/],
      [{ sweepInterval: Number.NaN }, /sweepInterval/],
      [{ now: 5 as unknown as () => number }, /now/],
    ])("rejects %o with a TypeError naming the option", (options, message) => {
      expect(() => new MemoryStore(options)).toThrow(TypeError);
      expect(() => new MemoryStore(options)).toThrow(message);
    });
  });
});
