/** The store contract, patch: per-key set/unset, version, and the expiry fields a patch may move. */
import { describe, expect, it } from "vitest";
import { IDLE_MS, MINUTE, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describePatch(suite: ContractSuite): void {
  const { ctx } = suite;
  describe("patch", () => {
    it("patch() sets and unsets only the named top-level keys and increments version", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock, { data: { userId: "user-1", keep: { deep: [1, 2] }, drop: "x", change: 1 } });
      await store.create(key, record);
      expect(await store.patch(key, { set: { change: { now: "an object" }, added: [true] }, unset: ["drop", "absent"] })).toBe(true);
      expect(await store.get(key)).toStrictEqual({
        ...record,
        data: { userId: "user-1", keep: { deep: [1, 2] }, change: { now: "an object" }, added: [true] },
        version: record.version + 1,
      });
      expect(await store.patch(key, {})).toBe(true);
      expect((await store.get(key))!.version).toBe(record.version + 2);
    });

    it("a key in both set and unset ends up set, and null is stored as a value", async () => {
      const store = await ctx.open();
      const key = newKey();
      await store.create(key, sessionRecord(ctx.clock, { data: { both: "old", nulled: "x" } }));
      expect(await store.patch(key, { set: { both: "new", nulled: null }, unset: ["both"] })).toBe(true);
      expect((await store.get(key))!.data).toStrictEqual({ both: "new", nulled: null });
    });

    it("patch() changes idleExpiresAt, touchedAt and cookieMaxAge only when given, and the new expiry counts", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock, { idleExpiresAt: ctx.clock.now() + MINUTE, cookieMaxAge: 5 * MINUTE });
      await store.create(key, record);
      expect(await store.patch(key, { set: { a: 1 } })).toBe(true);
      const unchanged = await store.get(key);
      expect([unchanged!.idleExpiresAt, unchanged!.touchedAt, unchanged!.cookieMaxAge]).toEqual([
        record.idleExpiresAt,
        record.touchedAt,
        record.cookieMaxAge,
      ]);

      ctx.clock.advance(30_000);
      const moved = { idleExpiresAt: ctx.clock.now() + 10 * MINUTE, touchedAt: ctx.clock.now(), cookieMaxAge: null };
      expect(await store.patch(key, moved)).toBe(true);
      expect(await store.get(key)).toMatchObject({ ...moved, version: record.version + 2, data: { ...record.data, a: 1 } });

      // Past the old idle expiry, inside the new one: a store that kept the old expiry (column, TTL) fails here.
      ctx.clock.advance(2 * MINUTE);
      expect((await store.get(key))?.data.a).toBe(1);
    });

    it("patch() of a missing key resolves false and creates nothing", async () => {
      const store = await ctx.open();
      const key = newKey();
      expect(await store.patch(key, { set: { userId: "user-1" }, idleExpiresAt: ctx.clock.now() + IDLE_MS })).toBe(false);
      expect(await store.get(key)).toBeNull();
      if (store.capabilities.listByUser) expect(await store.listByUser("user-1")).toEqual([]);
      if (store.capabilities.count) expect(await store.count()).toBe(0);
    });
  });
}
