/** The store contract, the per-user index: listByUser order and exactness, destroyByUser (with except), rotation. */
import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../core/types.js";
import { SHORT_MS, keysOf, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describePerUserIndex(suite: ContractSuite): void {
  const { ctx, itWhen } = suite;
  describe("per-user index", () => {
    itWhen("listByUser", "listByUser() returns only that user's live sessions, newest createdAt first", async (store) => {
      const now = ctx.clock.now();
      const [newest, older, oldest, expiring, otherUser, anonymous] = [newKey(), newKey(), newKey(), newKey(), newKey(), newKey()];
      // Created out of createdAt order, so insertion order cannot pass for the required order.
      const records = new Map<string, SessionRecord>([
        [older, sessionRecord(ctx.clock, { createdAt: now - 2000 })],
        [newest, sessionRecord(ctx.clock, { createdAt: now - 1000, data: { userId: "user-1", n: 1 } })],
        [oldest, sessionRecord(ctx.clock, { createdAt: now - 3000 })],
        [expiring, sessionRecord(ctx.clock, { createdAt: now, idleExpiresAt: now + SHORT_MS })],
        [otherUser, sessionRecord(ctx.clock, { userId: "user-2", data: { userId: "user-2" } })],
        [anonymous, sessionRecord(ctx.clock, { userId: null })],
      ]);
      for (const [key, record] of records) await store.create(key, record);
      expect(keysOf(await store.listByUser("user-1"))).toEqual([expiring, newest, older, oldest]);

      ctx.clock.advance(SHORT_MS);
      const listed = await store.listByUser("user-1");
      expect(listed).toStrictEqual([newest, older, oldest].map((key) => ({ key, record: records.get(key) })));
      expect(keysOf(await store.listByUser("user-2"))).toEqual([otherUser]);
      expect(await store.listByUser("nobody")).toEqual([]);
    });

    itWhen("listByUser", "listByUser() never lists anonymous sessions", async (store) => {
      await store.create(newKey(), sessionRecord(ctx.clock, { userId: null }));
      for (const userId of ["null", "", "undefined", "0"]) expect(await store.listByUser(userId)).toEqual([]);
    });

    itWhen("!listByUser", "listByUser() rejects with a TypeError when the store has no per-user index", async (store) => {
      await expect(store.listByUser("user-1")).rejects.toThrow(TypeError);
    });

    it("destroyByUser() makes every session of the user unreadable and leaves other sessions", async () => {
      const store = await ctx.open();
      const mine = [newKey(), newKey(), newKey()];
      for (const key of mine) await store.create(key, sessionRecord(ctx.clock));
      const others = new Map([
        [newKey(), sessionRecord(ctx.clock, { userId: "user-2", data: { userId: "user-2" } })],
        [newKey(), sessionRecord(ctx.clock, { userId: "user-10", data: { userId: "user-10" } })],
        [newKey(), sessionRecord(ctx.clock, { userId: null })],
      ]);
      for (const [key, record] of others) await store.create(key, record);

      const deleted = await store.destroyByUser("user-1");
      if (store.capabilities.listByUser) expect(deleted).toBe(3);
      else expect(deleted).toBeGreaterThanOrEqual(0);
      for (const key of mine) expect(await store.get(key)).toBeNull();
      for (const key of mine) expect(await store.patch(key, { set: { revived: true } })).toBe(false);
      for (const [key, record] of others) expect(await store.get(key)).toStrictEqual(record);
      if (store.capabilities.listByUser) expect(await store.listByUser("user-1")).toEqual([]);
    });

    it("destroyByUser() keeps the session named in except", async () => {
      const store = await ctx.open();
      const [current, other1, other2] = [newKey(), newKey(), newKey()];
      const currentRecord = sessionRecord(ctx.clock, { data: { userId: "user-1", current: true } });
      await store.create(current, currentRecord);
      await store.create(other1, sessionRecord(ctx.clock));
      await store.create(other2, sessionRecord(ctx.clock));

      const deleted = await store.destroyByUser("user-1", { except: current });
      if (store.capabilities.listByUser) expect(deleted).toBe(2);
      expect(await store.get(other1)).toBeNull();
      expect(await store.get(other2)).toBeNull();
      expect(await store.get(current)).toStrictEqual(currentRecord);
      expect(await store.patch(current, { set: { still: "works" } })).toBe(true);
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1"))).toEqual([current]);
    });

    it("a session created after destroyByUser() is readable and patchable", async () => {
      const store = await ctx.open();
      await store.create(newKey(), sessionRecord(ctx.clock));
      await store.destroyByUser("user-1");
      const key = newKey();
      const record = sessionRecord(ctx.clock);
      await store.create(key, record);
      expect(await store.get(key)).toStrictEqual(record);
      expect(await store.patch(key, { set: { after: true } })).toBe(true);
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1"))).toEqual([key]);
    });

    it("user ids are matched exactly: glob-, LIKE- and anonymous-looking ids match nobody else", async () => {
      const store = await ctx.open();
      const records = new Map(
        ["user-1", "user-10", "USER-1", "user-1 ", null].map((userId): [string, SessionRecord] => [newKey(), sessionRecord(ctx.clock, { userId })]),
      );
      for (const [key, record] of records) await store.create(key, record);
      for (const userId of ["*", "user-*", "user-?", "user-%", "user-_", "%", "_", "[u]ser-1", "null", ""]) {
        if (store.capabilities.listByUser) expect(await store.listByUser(userId)).toEqual([]);
        await store.destroyByUser(userId);
      }
      for (const [key, record] of records) expect(await store.get(key)).toStrictEqual(record);
      if (store.capabilities.listByUser) {
        const [first] = records.keys();
        expect(keysOf(await store.listByUser("user-1"))).toEqual([first]);
      }
    });

    it("rotation as the manager does it (create new key with the same data, destroy the old) leaves only the new one", async () => {
      const store = await ctx.open();
      const oldKey = newKey();
      await store.create(oldKey, sessionRecord(ctx.clock, { userId: null, data: { cart: ["sku-9"] } }));
      await store.patch(oldKey, { set: { userId: "user-1", returnTo: "/checkout" } });
      const loaded = await store.get(oldKey);

      const newKeyValue = newKey();
      const rotated: SessionRecord = { ...loaded!, userId: "user-1", touchedAt: ctx.clock.now() };
      await store.create(newKeyValue, rotated);
      await store.destroy(oldKey);

      expect(await store.get(oldKey)).toBeNull();
      expect(await store.patch(oldKey, { set: { stale: true } })).toBe(false);
      expect((await store.get(newKeyValue))!.data).toStrictEqual({ cart: ["sku-9"], userId: "user-1", returnTo: "/checkout" });
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1"))).toEqual([newKeyValue]);
    });
  });
}
