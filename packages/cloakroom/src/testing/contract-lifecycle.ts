/** The store contract, lifecycle: create and get (exact copies, peek), touch, destroy, count and clear. */
import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../core/types.js";
import { IDLE_MS, MINUTE, SHORT_MS, createNamespace, keysOf, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describeLifecycle(suite: ContractSuite): void {
  const { ctx, itWhen } = suite;
  describe("create and get", () => {
    it("get() returns exactly the record create() stored", async () => {
      const store = await ctx.open();
      const signedIn = sessionRecord(ctx.clock, {
        data: { userId: "user-1", n: 42, pi: 3.25, flag: false, none: null, nested: { list: [1, "two", { three: [] }] } },
        version: 7,
      });
      const anonymous = sessionRecord(ctx.clock, { userId: null, cookieMaxAge: 14 * 24 * 60 * MINUTE, meta: {} });
      const [signedInKey, anonymousKey] = [newKey(), newKey()];
      await store.create(signedInKey, signedIn);
      await store.create(anonymousKey, anonymous);
      expect(await store.get(signedInKey)).toStrictEqual(signedIn);
      expect(await store.get(anonymousKey)).toStrictEqual(anonymous);
    });

    it("get() returns null for a key that was never created", async () => {
      const store = await ctx.open();
      await store.create(newKey(), sessionRecord(ctx.clock));
      expect(await store.get(newKey())).toBeNull();
    });

    it("create() on an existing key replaces the whole record", async () => {
      const store = await ctx.open();
      const key = newKey();
      await store.create(key, sessionRecord(ctx.clock, { data: { userId: "user-1", old: true } }));
      const replacement = sessionRecord(ctx.clock, { userId: "user-2", data: { userId: "user-2", fresh: 1 } });
      await store.create(key, replacement);
      expect(await store.get(key)).toStrictEqual(replacement);
      if (store.capabilities.listByUser) {
        expect(keysOf(await store.listByUser("user-1"))).toEqual([]);
        expect(keysOf(await store.listByUser("user-2"))).toEqual([key]);
      }
    });

    it("create() of an already-expired record resolves and leaves nothing readable", async () => {
      const store = await ctx.open();
      const key = newKey();
      const now = ctx.clock.now();
      await store.create(key, sessionRecord(ctx.clock, { createdAt: now - 2 * IDLE_MS, idleExpiresAt: now - 1 }));
      expect(await store.get(key)).toBeNull();
      expect(await store.patch(key, { set: { a: 1 } })).toBe(false);
    });

    it("records are copies: mutating what was passed in or handed out changes nothing stored", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock);
      const expected = structuredClone(record);
      await store.create(key, record);
      (record.data.cart as string[]).push("injected");
      record.meta.ip = "198.51.100.66";
      record.version = 99;

      const first = await store.get(key);
      expect(first).toStrictEqual(expected);
      (first!.data.cart as string[]).push("injected");
      first!.data.theme = "light";
      expect(await store.get(key)).toStrictEqual(expected);

      const value = { items: ["a"] };
      expect(await store.patch(key, { set: { box: value } })).toBe(true);
      value.items.push("injected");
      expect((await store.get(key))!.data.box).toEqual({ items: ["a"] });
    });

    it("peek(), where a store offers it, never contradicts get(): a copy, a deeply frozen record, or defer; nothing expired or destroyed", async () => {
      const store = await ctx.open();
      if (store.peek === undefined) return expect(Object.keys(store)).not.toContain("peek");
      const [live, gone, stale] = [newKey(), newKey(), newKey()];
      const record = sessionRecord(ctx.clock);
      await store.create(live, record);
      await store.create(gone, sessionRecord(ctx.clock));
      await store.create(stale, sessionRecord(ctx.clock, { idleExpiresAt: ctx.clock.now() + SHORT_MS }));
      await store.get(live); // a caching store answers from memory after a read
      await store.get(gone);
      await store.get(stale);
      await store.destroy(gone);
      ctx.clock.advance(SHORT_MS);
      const peeked = store.peek(live);
      if (peeked !== undefined) {
        expect(peeked).toStrictEqual(record);
        if (Object.isFrozen(peeked)) {
          // Shared between reads: frozen all the way down, so no reader can change it for the next one.
          for (const part of [peeked!.data, peeked!.meta, peeked!.data.cart]) expect(Object.isFrozen(part)).toBe(true);
          expect(() => (peeked!.data.cart as string[]).push("injected")).toThrow(TypeError);
        } else {
          (peeked!.data.cart as string[]).push("injected");
          peeked!.data.theme = "light";
        }
        expect(store.peek(live) ?? (await store.get(live))).toStrictEqual(record);
        // A write is seen by the next peek at once (a shared record is never older than the store's).
        expect(await store.patch(live, { set: { theme: "light" } })).toBe(true);
        const after = store.peek(live) ?? (await store.get(live));
        expect(after!.data.theme).toBe("light");
        expect(after!.version).toBe(record.version + 1);
      }
      expect(store.peek(newKey()) ?? null).toBeNull();
      expect(store.peek(gone) ?? null).toBeNull();
      expect(store.peek(stale) ?? null).toBeNull();
    });
  });

  describe("touch", () => {
    it("touch() moves idleExpiresAt and touchedAt, increments version, keeps data, and the new expiry counts", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock, { idleExpiresAt: ctx.clock.now() + MINUTE });
      await store.create(key, record);
      ctx.clock.advance(50_000);
      const idleExpiresAt = ctx.clock.now() + 10 * MINUTE;
      expect(await store.touch(key, idleExpiresAt, ctx.clock.now())).toBe(true);
      const touched = { ...record, idleExpiresAt, touchedAt: ctx.clock.now(), version: record.version + 1 };
      expect(await store.get(key)).toStrictEqual(touched);

      ctx.clock.advance(2 * MINUTE);
      expect(await store.get(key)).toStrictEqual(touched);
    });

    it("touch() of a missing key resolves false and creates nothing", async () => {
      const store = await ctx.open();
      const key = newKey();
      expect(await store.touch(key, ctx.clock.now() + IDLE_MS, ctx.clock.now())).toBe(false);
      expect(await store.get(key)).toBeNull();
    });
  });

  describe("destroy", () => {
    it("destroy() makes the record unreadable and leaves others alone", async () => {
      const store = await ctx.open();
      const [gone, kept] = [newKey(), newKey()];
      const keptRecord = sessionRecord(ctx.clock);
      await store.create(gone, sessionRecord(ctx.clock));
      await store.create(kept, keptRecord);
      await store.destroy(gone);
      expect(await store.get(gone)).toBeNull();
      expect(await store.get(kept)).toStrictEqual(keptRecord);
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1"))).toEqual([kept]);
    });

    it("destroy() of a missing key resolves", async () => {
      const store = await ctx.open();
      const key = newKey();
      await expect(store.destroy(key)).resolves.toBeUndefined();
      await store.create(key, sessionRecord(ctx.clock));
      await store.destroy(key);
      await expect(store.destroy(key)).resolves.toBeUndefined();
    });
  });

  describe("count and clear", () => {
    itWhen("count", "count() counts live records only", async (store) => {
      expect(await store.count()).toBe(0);
      const [signedIn, anonymous, expiring] = [newKey(), newKey(), newKey()];
      await store.create(signedIn, sessionRecord(ctx.clock));
      await store.create(anonymous, sessionRecord(ctx.clock, { userId: null }));
      await store.create(expiring, sessionRecord(ctx.clock, { idleExpiresAt: ctx.clock.now() + SHORT_MS }));
      expect(await store.count()).toBe(3);
      ctx.clock.advance(SHORT_MS);
      expect(await store.count()).toBe(2);
      await store.destroy(signedIn);
      expect(await store.count()).toBe(1);
      await store.clear();
      expect(await store.count()).toBe(0);
    });

    itWhen("!count", "count() rejects with a TypeError when the store cannot count", async (store) => {
      await expect(store.count()).rejects.toThrow(TypeError);
    });

    it("clear() removes every record of its namespace and nothing of another namespace", async () => {
      const store = await ctx.open();
      const neighbour = await ctx.open(createNamespace());
      const mine = [newKey(), newKey()];
      const theirs = new Map([newKey(), newKey()].map((key): [string, SessionRecord] => [key, sessionRecord(ctx.clock)]));
      for (const key of mine) await store.create(key, sessionRecord(ctx.clock));
      for (const [key, record] of theirs) await neighbour.create(key, record);
      // The same key in both namespaces must be two records.
      const shared = newKey();
      const sharedRecord = sessionRecord(ctx.clock, { data: { userId: "user-1", side: "neighbour" } });
      await store.create(shared, sessionRecord(ctx.clock, { data: { userId: "user-1", side: "mine" } }));
      await neighbour.create(shared, sharedRecord);

      await store.clear();
      for (const key of [...mine, shared]) expect(await store.get(key)).toBeNull();
      for (const [key, record] of theirs) expect(await neighbour.get(key)).toStrictEqual(record);
      expect(await neighbour.get(shared)).toStrictEqual(sharedRecord);
      if (store.capabilities.listByUser) {
        expect(await store.listByUser("user-1")).toEqual([]);
        expect(await neighbour.listByUser("user-1")).toHaveLength(3);
      }
      if (store.capabilities.count) expect(await neighbour.count()).toBe(3);
      await store.create(mine[0]!, sessionRecord(ctx.clock));
      expect(await store.get(mine[0]!)).not.toBeNull();
    });
  });
}
