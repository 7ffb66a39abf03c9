import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../core/types.js";
import { decimalOf, decodeRecord, encodeOwner, encodeRecord, expireAtArg, expiresAtOfValue, patchArgs } from "./redis-codec.js";

const NOW = 1_764_625_800_000;

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "user-123456",
    data: { userId: "user-123456" },
    createdAt: NOW,
    touchedAt: NOW,
    idleExpiresAt: NOW + 1_800_000,
    absoluteExpiresAt: NOW + 43_200_000,
    cookieMaxAge: null,
    version: 0,
    meta: {},
    ...overrides,
  };
}

describe("RedisStore's record codec", () => {
  it("writes every time as its base-36 form (integers) or ~ and its decimal form", () => {
    const times = [0, 35, 36 ** 5 - 1, 36 ** 5, 36 ** 5 + 1, NOW, NOW + 1, 2 ** 31, 2 ** 53 - 1];
    for (const ms of times) expect(encodeRecord(record({ createdAt: ms, touchedAt: ms })).split("\u001f")[0]).toBe(ms.toString(36));
    expect(encodeRecord(record({ createdAt: 2 ** 53, touchedAt: 0 })).split("\u001f")[0]).toBe(`~${2 ** 53}`);
  });

  it("a fresh logged-in session fits in 60 bytes (one 64-byte allocation in Redis), an anonymous cart in fewer", () => {
    expect(encodeRecord(record()).length).toBeLessThanOrEqual(60);
    expect(encodeRecord(record({ userId: null, data: { cart: [] } })).length).toBeLessThanOrEqual(60);
  });

  it.each([
    ["a fresh session", record()],
    ["touched, versioned, persistent, with meta", record({ touchedAt: NOW + 5, version: 7, cookieMaxAge: 86_400_000, meta: { ip: "::1", userAgent: "a\u001fb" } })],
    ["fractional, negative and huge times", record({ createdAt: -5, touchedAt: 0.5, idleExpiresAt: NOW + 0.4, absoluteExpiresAt: 2 ** 60 })],
    ["an owner apart from data.userId", record({ userId: "acct-1", data: { userId: "user-1", nested: { a: [1, "}"] } } })],
    ["owners that need quoting", record({ userId: '"x"', data: { userId: '"x"' } })],
    ["an empty owner", record({ userId: "", data: {} })],
    ["an owner with a separator", record({ userId: "a\u001fb", data: { userId: "a\u001fb" } })],
    ["anonymous", record({ userId: null, data: { __proto__: 1, constructor: "c" } as never })],
  ])("round-trips %s exactly", (_name, value) => {
    const encoded = encodeRecord(value);
    expect(decodeRecord(encoded)).toEqual(value);
    expect(expiresAtOfValue(encoded)).toBe(Math.min(value.idleExpiresAt, value.absoluteExpiresAt));
  });

  it("a data key named __proto__ stays data", () => {
    const data = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const decoded = decodeRecord(encodeRecord(record({ data })));
    expect(Object.keys(decoded.data)).toEqual(["__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("rejects a value that is not a record", () => {
    expect(() => decodeRecord("not a record")).toThrow(/not a session record/);
    const fields = encodeRecord(record()).split("\u001f");
    for (const count of [1, 4, 6, 8, 10]) {
      const value = [...fields, ...fields].slice(0, count).join("\u001f");
      expect(() => decodeRecord(value), `${count} fields`).toThrow(/not a session record/);
    }
  });

  it("quotes owners that are empty, start with a quote or a dot, or hold a control character", () => {
    expect(encodeOwner("user-1")).toBe("user-1");
    expect(encodeOwner("a.b")).toBe("a.b");
    expect(["", '"a', ".a", "a\nb"].map(encodeOwner)).toEqual(['""', '"\\"a"', '".a"', '"a\\nb"']);
  });

  it("patch arguments carry JSON names, unset-for-undefined and '=' before a changed cookieMaxAge", () => {
    expect(patchArgs(NOW, { set: { a: 1, gone: undefined }, unset: ["b"], cookieMaxAge: null, touchedAt: 36 })).toEqual([
      String(NOW), "10", "", "=", "1", '"a"', "1", '"b"', '"gone"',
    ]);
  });

  it("decimalOf() writes every integer as toFixed(0) does, around 2^31 and 10^9 multiples too", () => {
    const values = [0, 1, 999_999_999, 1e9, 2 ** 31 - 1, 2 ** 31, NOW, NOW + 1e9 - NOW % 1e9, NOW + 7, Number.MAX_SAFE_INTEGER, 2 ** 60, -5, 1e21];
    for (const value of values) expect(decimalOf(value)).toBe(value.toFixed(0));
    expect(expireAtArg(NOW + 0.25)).toBe(String(NOW + 1));
  });
});
