/** MemoryStore's held form: exact round trips in the packed and the generic form, and the header read by sweeps. */
import { describe, expect, it } from "vitest";
import type { SessionRecord } from "../core/types.js";
import { decodeRecord, encodeRecord, expiresAtOfHeld } from "./memory-codec.js";

const now = 1_764_600_000_000;

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "user-1",
    data: { userId: "user-1" },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + 1_800_000,
    absoluteExpiresAt: now + 43_200_000,
    cookieMaxAge: null,
    version: 0,
    meta: {},
    ...overrides,
  };
}

describe("memory-codec", () => {
  it("packs a minimal signed-in session (data `{ userId }` alone) into the header and the userId's text, no JSON", () => {
    const held = encodeRecord(record());
    expect(held.startsWith("U")).toBe(true);
    expect(held.length).toBe(1 + 24 + "user-1".length);
    expect(decodeRecord(held)).toStrictEqual(record());
    const touched = record({ version: 3, cookieMaxAge: 86_400_000, meta: { ip: "::1", userAgent: "UA" } });
    const full = encodeRecord(touched);
    expect(full.startsWith("Q")).toBe(true);
    expect(full.length).toBe(1 + 36 + 4 + 1 + "::1UA".length + "user-1".length);
    expect(decodeRecord(full)).toStrictEqual(touched);
  });

  it.each([
    ["an empty userId", ""],
    ["a userId with JSON's special characters", 'a"b\\c\u0000\u2028'],
    ["a userId outside one-byte characters", "ユーザー🦊"],
    ["a lone surrogate", "x\ud800y"],
  ])("holds %s in the userId-only forms, exactly", (_name, userId) => {
    for (const value of [record({ userId, data: { userId } }), record({ userId, data: { userId }, version: 2 })]) {
      const decoded = decodeRecord(encodeRecord(value));
      expect(decoded).toStrictEqual(value);
      expect(decoded.data).not.toBe(value.data);
    }
  });

  it.each([
    ["data.userId not the record's", record({ userId: "user-2" })],
    ["anonymous with a data.userId", record({ userId: null })],
    ["a second data key", record({ data: { userId: "user-1", cart: 1 } })],
    ["a numeric data.userId", record({ userId: "1", data: { userId: 1 } })],
  ])("keeps JSON for %s", (_name, value) => {
    for (const one of [value, { ...value, version: 1 }]) {
      const held = encodeRecord(one);
      expect(held.startsWith("U")).toBe(false);
      expect(decodeRecord(held)).toStrictEqual(one);
    }
  });

  it("hands out a fresh data object on every read of the userId-only forms", () => {
    for (const held of [encodeRecord(record()), encodeRecord(record({ version: 1 }))]) {
      const first = decodeRecord(held);
      first.data.userId = "changed";
      expect(decodeRecord(held).data).toStrictEqual({ userId: "user-1" });
    }
  });

  it.each([
    ["anonymous", record({ userId: null, data: { cart: [1] } })],
    ["anonymous with a data.userId", record({ userId: null })],
    ["a userId other than data.userId", record({ userId: "42", data: { uid: 42, userId: "someone" } })],
    ["a userId with no data.userId", record({ userId: "42", data: { uid: 42 } })],
    ["defaults in the middle", record({ version: 0, cookieMaxAge: 86_400_000, meta: { ip: "::1" } })],
    ["every field set", record({ version: 7, cookieMaxAge: 1, meta: { ip: "203.0.113.1", userAgent: "UA 🦊" }, data: { userId: "user-1", "ключ": "\u0000\u2028" } })],
    ["times at the packed limits", record({ createdAt: 0, touchedAt: 2 ** 48 - 1, idleExpiresAt: 255, absoluteExpiresAt: 2 ** 24 })],
    ["hostile data keys", record({ data: JSON.parse('{"userId":"user-1","__proto__":{"x":1},"constructor":"c","prototype":1,"hasOwnProperty":"h"}') as Record<string, unknown> })],
  ])("round-trips %s exactly", (_name, value) => {
    const decoded = decodeRecord(encodeRecord(value));
    expect(decoded).toStrictEqual(value);
    expect(Object.keys(decoded.data)).toEqual(Object.keys(value.data));
    expect(expiresAtOfHeld(encodeRecord(value))).toBe(Math.min(value.idleExpiresAt, value.absoluteExpiresAt));
  });

  it("holds a touched session with a cookie lifetime and a device in the Q form: fields in the header, meta as text", () => {
    const value = record({ version: 12, cookieMaxAge: 86_400_000, meta: { ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux x86_64)" }, data: { userId: "user-1", theme: "dark" } });
    const held = encodeRecord(value);
    expect(held.startsWith("Q")).toBe(true);
    // header (1 + 6 times of 6 + two lengths of 2 + the userId mode) + the texts + the data's JSON, nothing else
    expect(held.length).toBe(1 + 36 + 4 + 1 + "203.0.113.7".length + "Mozilla/5.0 (X11; Linux x86_64)".length + JSON.stringify(value.data).length);
    expect(decodeRecord(held)).toStrictEqual(value);
    for (const meta of [{}, { ip: "::1" }, { userAgent: "" }, { ip: "", userAgent: "x" }]) {
      const only = record({ version: 1, meta });
      expect(decodeRecord(encodeRecord(only))).toStrictEqual(only);
    }
  });

  it.each([
    ["a meta field other than ip and userAgent", record({ version: 1, meta: { ip: "::1", device: "phone" } as never })],
    ["a meta value that is not a string", record({ version: 1, meta: { ip: 7 } as never })],
    ["a userAgent too long for a 2-character length", record({ version: 1, meta: { userAgent: "u".repeat(0xffff) } })],
    ["a cookieMaxAge equal to the null marker", record({ cookieMaxAge: 2 ** 48 - 1 })],
    ["a negative cookieMaxAge", record({ cookieMaxAge: -5 })],
    ["a version past 2^48", record({ version: 2 ** 48 })],
  ])("keeps %s in the generic form, exactly", (_name, value) => {
    const held = encodeRecord(value);
    expect(held.startsWith("J")).toBe(true);
    expect(decodeRecord(held)).toStrictEqual(value);
  });

  it("keeps times it cannot pack (fractional, negative, past 2^48) in the generic form, exactly", () => {
    for (const value of [record({ touchedAt: now + 0.5 }), record({ createdAt: -1 }), record({ absoluteExpiresAt: 2 ** 48 })]) {
      const held = encodeRecord(value);
      expect(held.startsWith("J")).toBe(true);
      expect(decodeRecord(held)).toStrictEqual(value);
      expect(expiresAtOfHeld(held)).toBe(Math.min(value.idleExpiresAt, value.absoluteExpiresAt));
    }
  });

  it("a non-finite time reads back as NaN, which no liveness check passes", () => {
    const held = encodeRecord(record({ idleExpiresAt: Number.POSITIVE_INFINITY, absoluteExpiresAt: Number.NaN }));
    expect(expiresAtOfHeld(held) > now).toBe(false);
  });

  it("every call hands out a fresh copy", () => {
    const held = encodeRecord(record({ data: { userId: "user-1", cart: ["a"] } }));
    const first = decodeRecord(held);
    (first.data.cart as string[]).push("b");
    expect(decodeRecord(held).data.cart).toEqual(["a"]);
  });
});
