/** The store contract, hostile input: unicode, large values, keys that look like globs, SQL or paths. */
import { describe, expect, it } from "vitest";
import { IDLE_MS, keysOf, newKey, sessionRecord, type ContractSuite } from "./contract-context.js";

export function describeHostileInput(suite: ContractSuite): void {
  const { ctx } = suite;
  describe("values and keys", () => {
    it("unicode strings (emoji, RTL, NUL, line separators) round-trip exactly", async () => {
      const store = await ctx.open();
      const userId = "用户-ü-🧑‍💻";
      const record = sessionRecord(ctx.clock, {
        userId,
        data: {
          userId,
          emoji: "🧥🎟️👩‍👩‍👧 ✔",
          rtl: "مرحبا بالعالم — שלום עולם",
          nul: "before\u0000after\u0000",
          separators: "line\u2028para\u2029tab\tnl\ncr\r",
          combining: "e\u0301 vs é",
          "ключ 🔑": { "日本": ["ü", "\u0000", "\uFEFF"] },
        },
        meta: { ip: "2001:db8::1", userAgent: "Navigateur/1.0 (Français; العربية) 🦊" },
      });
      const key = newKey();
      await store.create(key, record);
      expect(await store.get(key)).toStrictEqual(record);
      expect(await store.patch(key, { set: { more: "\u0000🧥" } })).toBe(true);
      expect((await store.get(key))!.data.more).toBe("\u0000🧥");
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser(userId))).toEqual([key]);
    });

    it("a 200 kB value round-trips and survives a patch of another key", async () => {
      const store = await ctx.open();
      const big = "0123456789abcdef".repeat(12_800) + "🧥";
      const key = newKey();
      const record = sessionRecord(ctx.clock, { data: { userId: "user-1", big } });
      await store.create(key, record);
      expect(await store.get(key)).toStrictEqual(record);
      expect(await store.patch(key, { set: { small: 1 } })).toBe(true);
      const stored = await store.get(key);
      expect(stored!.data.big).toBe(big);
      expect(stored!.data.small).toBe(1);
    });

    it("hostile keys (CRLF, NUL, globs, LIKE wildcards, SQL, paths, non-ASCII, 10 kB) are ordinary independent keys", async () => {
      const store = await ctx.open();
      const keys = [
        "a\r\nb", "a\u0000b", "*", "?", "[a]", "%", "_", "'; DROP TABLE x;--", "../../etc/passwd", "ключ-🔑-مفتاح",
        "k".repeat(10_240), "a", "A", "a ", "b", "a:b", "prefix:*", "\\", '"', "a%", "a_", "a*", newKey(),
      ];
      expect(new Set(keys).size).toBe(keys.length);
      const now = ctx.clock.now();
      // Distinct createdAt values make the expected listByUser order unambiguous.
      const records = keys.map((key, i) => sessionRecord(ctx.clock, { createdAt: now - i, data: { userId: "user-1", i } }));
      for (const [i, key] of keys.entries()) await store.create(key, records[i]!);
      for (const [i, key] of keys.entries()) expect(await store.get(key)).toStrictEqual(records[i]);
      for (const [i, key] of keys.entries()) {
        expect(await store.patch(key, { set: { patched: i } })).toBe(true);
        expect(await store.touch(key, now + 2 * IDLE_MS, now)).toBe(true);
      }
      for (const [i, key] of keys.entries()) expect((await store.get(key))!.data).toStrictEqual({ userId: "user-1", i, patched: i });
      if (store.capabilities.listByUser) expect(keysOf(await store.listByUser("user-1"))).toEqual(keys);
      if (store.capabilities.count) expect(await store.count()).toBe(keys.length);

      // Glob- and LIKE-shaped keys must not match the other keys when destroyed.
      const patterns = ["*", "?", "[a]", "%", "_", "prefix:*", "\\", "a%", "a_", "a*"];
      for (const pattern of patterns) await store.destroy(pattern);
      for (const [i, key] of keys.entries()) {
        if (patterns.includes(key)) expect(await store.get(key)).toBeNull();
        else expect((await store.get(key))?.data.i).toBe(i);
      }
      if (store.capabilities.listByUser) {
        expect(keysOf(await store.listByUser("user-1"))).toEqual(keys.filter((key) => !patterns.includes(key)));
      }
    });
  });

  describe("data keys named like Object.prototype members", () => {
    // Store as data, never as a prototype or a method: JSON.parse gives own properties, which is what an app
    // copying a request body into its session hands over.
    const hostileData = (): Record<string, unknown> =>
      JSON.parse('{"userId":"user-1","__proto__":{"polluted":true},"constructor":"c","prototype":{"p":[1]},"hasOwnProperty":"h"}') as Record<string, unknown>;
    const HOSTILE = ["__proto__", "constructor", "prototype", "hasOwnProperty"];

    function expectOwnData(data: Record<string, unknown>, expected: Record<string, unknown>): void {
      expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      expect(Object.keys(data).sort()).toEqual(Object.keys(expected).sort());
      for (const name of Object.keys(expected)) {
        expect(Object.getOwnPropertyDescriptor(data, name)?.value).toStrictEqual(Object.getOwnPropertyDescriptor(expected, name)?.value);
      }
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    }

    it("create() and get() keep __proto__, constructor, prototype and hasOwnProperty as own data keys", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock, { data: hostileData() });
      await store.create(key, record);
      const stored = await store.get(key);
      expectOwnData(stored!.data, hostileData());
      expect(stored).toStrictEqual(record);
    });

    it("patch() sets, replaces and unsets them as data, one key at a time", async () => {
      const store = await ctx.open();
      const key = newKey();
      await store.create(key, sessionRecord(ctx.clock, { data: { userId: "user-1" } }));
      expect(await store.patch(key, { set: hostileData() })).toBe(true);
      expectOwnData((await store.get(key))!.data, hostileData());

      const replaced = JSON.parse('{"__proto__":"now a string","constructor":{"nested":{"__proto__":1}}}') as Record<string, unknown>;
      expect(await store.patch(key, { set: replaced, unset: ["hasOwnProperty", "prototype"] })).toBe(true);
      const expected = JSON.parse('{"userId":"user-1","__proto__":"now a string","constructor":{"nested":{"__proto__":1}}}');
      expectOwnData((await store.get(key))!.data, expected as Record<string, unknown>);
    });

    it("unset of a hostile key that is not there changes nothing else", async () => {
      const store = await ctx.open();
      const key = newKey();
      const record = sessionRecord(ctx.clock);
      await store.create(key, record);
      expect(await store.patch(key, { unset: HOSTILE })).toBe(true);
      expect((await store.get(key))!.data).toStrictEqual(record.data);
    });
  });

  it("setting a data key to undefined deletes it (JSON has no undefined), in every store alike", async () => {
    const store = await ctx.open();
    const key = newKey();
    await store.create(key, sessionRecord(ctx.clock, { data: { userId: "user-1", gone: "x", kept: 1 } }));
    expect(await store.patch(key, { set: { gone: undefined, added: true } })).toBe(true);
    expect((await store.get(key))!.data).toStrictEqual({ userId: "user-1", kept: 1, added: true });
  });
}
