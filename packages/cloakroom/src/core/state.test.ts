import { describe, expect, it } from "vitest";
import { EMPTY_SNAPSHOT, Serialized, UNCHANGED, currentData, diffData, snapshotOf, valueOf, type Snapshot } from "./state.js";

const RESERVED = new Set(["cookie"]);

function snapshotFrom(data: Record<string, unknown>): Snapshot {
  return new Map(Object.entries(data).map(([k, v]) => [k, snapshotOf(v)]));
}

describe("snapshotOf()", () => {
  it("keeps primitives as they are and objects as their JSON", () => {
    expect(snapshotOf("u1")).toBe("u1");
    expect(snapshotOf(true)).toBe(true);
    expect(snapshotOf(null)).toBeNull();
    expect(snapshotOf({ a: [1] })).toEqual(new Serialized('{"a":[1]}'));
  });

  it("gives numbers as a store gives them back: NaN and infinities null, -0 as 0", () => {
    expect(snapshotOf(NaN)).toBeNull();
    expect(snapshotOf(-Infinity)).toBeNull();
    expect(Object.is(snapshotOf(-0), 0)).toBe(true);
  });

  it("leaves out what JSON leaves out, and throws JSON's TypeError for a BigInt", () => {
    expect(snapshotOf(undefined)).toBeUndefined();
    expect(snapshotOf(() => 1)).toBeUndefined();
    expect(snapshotOf(Symbol("s"))).toBeUndefined();
    expect(() => snapshotOf(10n)).toThrow(TypeError);
  });
});

describe("diffData()", () => {
  it("an unchanged session costs no allocation: one shared answer", () => {
    const snapshot = snapshotFrom({ userId: "u1", cart: ["a"] });
    const changes = diffData({ cookie: {}, userId: "u1", cart: ["a"] }, snapshot, RESERVED);
    expect(changes).toBe(UNCHANGED);
    expect(diffData({ f: () => 1 }, EMPTY_SNAPSHOT, RESERVED)).toBe(UNCHANGED);
  });

  it("sees nested mutation, new keys and deleted keys, and never the reserved `cookie`", () => {
    const snapshot = snapshotFrom({ userId: "u1", cart: ["a"], gone: 1 });
    const changes = diffData({ cookie: { x: 1 }, userId: "u1", cart: ["a", "b"], added: { n: 1 } }, snapshot, RESERVED);
    expect(changes.set).toEqual({ cart: ["a", "b"], added: { n: 1 } });
    expect(changes.unset).toEqual(["gone"]);
    expect(currentData(changes.current)).toEqual({ userId: "u1", cart: ["a", "b"], added: { n: 1 } });
  });

  it("a string that reads like an object's JSON is still a change when an object replaces it", () => {
    const snapshot = snapshotFrom({ v: '{"a":1}' });
    expect(diffData({ v: { a: 1 } }, snapshot, RESERVED).set).toEqual({ v: { a: 1 } });
  });

  it("a value turned into a function is gone (JSON drops it); one that stays a function is nothing", () => {
    const changes = diffData({ f: () => 1, keep: () => 2 }, snapshotFrom({ f: "x" }), RESERVED);
    expect(changes.unset).toEqual(["f"]);
    expect(Object.keys(changes.set)).toEqual([]);
  });

  it("a data key named __proto__ is set as data, never as the prototype", () => {
    const session = {};
    Object.defineProperty(session, "__proto__", { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
    const changes = diffData(session, EMPTY_SNAPSHOT, RESERVED);
    expect(Object.getPrototypeOf(changes.set)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(changes.set, "__proto__")?.value).toEqual({ polluted: true });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("values are handed out as copies", () => {
    const entry = snapshotOf({ a: 1 });
    const first = valueOf(entry) as { a: number };
    first.a = 2;
    expect(valueOf(entry)).toEqual({ a: 1 });
  });
});
