/**
 * The store contract, concurrency across two handles: concurrent patches all survive, a racing destroy is never
 * undone. Only for stores with an atomic per-key patch: one that replaces whole records (`wholeRecords`, an
 * express-session store behind LegacyStoreAdapter) patches by get + merge + set, so these cannot hold for it.
 */
import { describe, expect } from "vitest";
import { IDLE_MS, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describeConcurrency(suite: ContractSuite): void {
  const { ctx, itWhen } = suite;
  describe("concurrency across two handles", () => {
    itWhen("!wholeRecords", "patches of different keys from two handles both survive", async (a) => {
      const b = await ctx.open();
      for (let i = 0; i < 20; i++) {
        const key = newKey();
        await a.create(key, sessionRecord(ctx.clock, { data: { base: i } }));
        const results = await Promise.all([a.patch(key, { set: { fromA: i } }), b.patch(key, { set: { fromB: i } })]);
        expect(results).toEqual([true, true]);
        const stored = await b.get(key);
        expect(stored!.data).toStrictEqual({ base: i, fromA: i, fromB: i });
        expect(stored!.version).toBe(2);
      }
    });

    itWhen("!wholeRecords", "200 concurrent patches of distinct keys on one session (over two handles) all survive", async (a) => {
      const b = await ctx.open();
      const key = newKey();
      await a.create(key, sessionRecord(ctx.clock, { data: { userId: "user-1" } }));
      const patches = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).patch(key, { set: { [`k${i}`]: i } }));
      expect(await Promise.all(patches)).toEqual(Array.from({ length: 200 }, () => true));

      const stored = await a.get(key);
      const expected: Record<string, unknown> = { userId: "user-1" };
      for (let i = 0; i < 200; i++) expected[`k${i}`] = i;
      expect(stored!.data).toStrictEqual(expected);
      expect(stored!.version).toBe(200);
    });

    itWhen("!wholeRecords", "a destroy racing a patch never resurrects the session (logout on A while B saves)", async (a) => {
      const b = await ctx.open();
      for (let i = 0; i < 25; i++) {
        for (const destroyFirst of [true, false]) {
          const key = newKey();
          await a.create(key, sessionRecord(ctx.clock));
          const save = (): Promise<boolean> =>
            b.patch(key, { set: { cart: [i] }, idleExpiresAt: ctx.clock.now() + IDLE_MS, touchedAt: ctx.clock.now() });
          await Promise.all(destroyFirst ? [a.destroy(key), save()] : [save(), a.destroy(key)]);
          expect(await a.get(key)).toBeNull();
          expect(await b.get(key)).toBeNull();
          expect(await b.patch(key, { set: { late: true } })).toBe(false);
          expect(await b.touch(key, ctx.clock.now() + IDLE_MS, ctx.clock.now())).toBe(false);
          expect(await a.get(key)).toBeNull();
        }
      }
      if (a.capabilities.listByUser) expect(await a.listByUser("user-1")).toEqual([]);
    });
  });
}
