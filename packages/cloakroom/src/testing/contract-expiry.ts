/** The store contract, expiry: idle and absolute expiry enforced on read before any sweep, no revival, and sweep(). */
import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../core/types.js";
import { IDLE_MS, SHORT_MS, keysOf, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describeExpiry(suite: ContractSuite): void {
  const { ctx } = suite;
  describe("expiry", () => {
    it("get() returns null once the idle expiry is reached, before any sweep", async () => {
      const store = await ctx.open();
      const key = newKey();
      await store.create(key, sessionRecord(ctx.clock, { idleExpiresAt: ctx.clock.now() + SHORT_MS }));
      ctx.clock.advance(SHORT_MS - 1);
      expect(await store.get(key)).not.toBeNull();
      ctx.clock.advance(1); // expiresAt <= now is expired
      expect(await store.get(key)).toBeNull();
    });

    it("get() returns null once the absolute expiry is reached, before any sweep", async () => {
      const store = await ctx.open();
      const key = newKey();
      const now = ctx.clock.now();
      await store.create(key, sessionRecord(ctx.clock, { idleExpiresAt: now + IDLE_MS, absoluteExpiresAt: now + SHORT_MS }));
      ctx.clock.advance(SHORT_MS - 1);
      expect(await store.get(key)).not.toBeNull();
      ctx.clock.advance(1);
      expect(await store.get(key)).toBeNull();
    });

    it("patch() and touch() of an expired record resolve false and do not revive it", async () => {
      const store = await ctx.open();
      const [idle, absolute] = [newKey(), newKey()];
      const now = ctx.clock.now();
      await store.create(idle, sessionRecord(ctx.clock, { idleExpiresAt: now + SHORT_MS }));
      await store.create(absolute, sessionRecord(ctx.clock, { absoluteExpiresAt: now + SHORT_MS }));
      ctx.clock.advance(SHORT_MS);
      for (const key of [idle, absolute]) {
        const later = ctx.clock.now() + IDLE_MS;
        expect(await store.patch(key, { set: { revived: true }, idleExpiresAt: later, touchedAt: ctx.clock.now() })).toBe(false);
        expect(await store.touch(key, later, ctx.clock.now())).toBe(false);
        expect(await store.get(key)).toBeNull();
      }
      if (store.capabilities.listByUser) expect(await store.listByUser("user-1")).toEqual([]);
    });

    it("sweep() removes expired records and leaves live ones", async () => {
      const store = await ctx.open();
      const now = ctx.clock.now();
      const live = new Map([newKey(), newKey()].map((key, i): [string, SessionRecord] => [key, sessionRecord(ctx.clock, { data: { i } })]));
      for (const [key, record] of live) await store.create(key, record);
      await store.create(newKey(), sessionRecord(ctx.clock, { idleExpiresAt: now + SHORT_MS }));
      await store.create(newKey(), sessionRecord(ctx.clock, { absoluteExpiresAt: now + SHORT_MS }));
      await store.create(newKey(), sessionRecord(ctx.clock, { userId: null, idleExpiresAt: now + SHORT_MS }));
      ctx.clock.advance(SHORT_MS);

      const removed = await store.sweep();
      // Native-TTL stores leave expiry to the server (whose clock is not the fake one): sweep is a no-op there.
      expect(removed).toBe(store.capabilities.nativeTtl ? 0 : 3);
      expect(await store.sweep()).toBe(0);
      for (const [key, record] of live) expect(await store.get(key)).toStrictEqual(record);
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1")).sort()).toEqual([...live.keys()].sort());
    });
  });
}
