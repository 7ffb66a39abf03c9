/**
 * How CachedStore copies what it hands out: MemoryStore's held form (memory-codec.ts) when JSON gives the record back
 * exactly, structuredClone otherwise.
 * The shared store here is a MemoryStore wrapped to return values JSON cannot carry (a Date), as a third-party store
 * might; the channel is an in-process one that is always subscribed (the Redis and PostgreSQL channels are tested
 * against the real servers in test/cached.*.test.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SessionRecord, SessionStore } from "../core/types.js";
import { CachedStore } from "./cached.js";
import type { Invalidation, InvalidationChannel } from "./cached-channel.js";
import { MemoryStore } from "./memory.js";

class LoopbackChannel implements InvalidationChannel {
  #onMessage: ((message: Invalidation) => void) | undefined;
  async publish(message: Invalidation): Promise<void> {
    this.#onMessage?.(message);
  }
  async subscribe(onMessage: (message: Invalidation) => void, onState: (connected: boolean) => void): Promise<void> {
    this.#onMessage = onMessage;
    onState(true);
  }
  async close(): Promise<void> {}
}

/** A shared store whose get() puts a Date into `data.at`, and counts its reads. */
class DatedStore extends MemoryStore {
  gets = 0;
  override async get(key: string): Promise<SessionRecord | null> {
    this.gets++;
    const record = await super.get(key);
    if (record) Object.assign(record.data, { at: new Date(0), unset: undefined, zero: -0 });
    return record;
  }
}

function recordAt(now: number): SessionRecord {
  return {
    userId: "user-1",
    data: { userId: "user-1", cart: ["sku-1"] },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + 60_000,
    absoluteExpiresAt: now + 120_000,
    cookieMaxAge: null,
    version: 0,
    meta: {},
  };
}

const open: CachedStore[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

async function cachedOver(shared: SessionStore): Promise<CachedStore> {
  const cached = new CachedStore({ store: shared, invalidation: new LoopbackChannel(), closeStore: true });
  open.push(cached);
  await Promise.resolve();
  await Promise.resolve();
  return cached;
}

describe("CachedStore copies", () => {
  it("a record JSON carries exactly is served from memory: a fresh copy on every get, one frozen record shared by peeks", async () => {
    const memory = new MemoryStore();
    const cached = await cachedOver(memory);
    const key = "k-json";
    await memory.create(key, recordAt(Date.now()));
    const first = await cached.get(key);
    const copy = await cached.get(key);
    expect(copy).toStrictEqual(first);
    (copy!.data.cart as string[]).push("injected");
    const hit = cached.peek(key);
    expect(hit).toStrictEqual(first);
    expect(Object.isFrozen(hit) && Object.isFrozen(hit!.data) && Object.isFrozen(hit!.data.cart)).toBe(true);
    expect(() => (hit!.data.cart as string[]).push("injected")).toThrow(TypeError);
    expect(cached.peek(key)).toBe(hit);
    expect(await cached.get(key)).toStrictEqual(first);
  });

  it("every held form (minimal, with meta and a cookie lifetime, generic) comes back from memory as the store gave it", async () => {
    const memory = new MemoryStore();
    const cached = await cachedOver(memory);
    const now = Date.now();
    const records: Record<string, SessionRecord> = {
      minimal: recordAt(now),
      device: { ...recordAt(now), cookieMaxAge: 86_400_000, version: 3, meta: { ip: "203.0.113.9", userAgent: "Mozilla/5.0 \u00e9" } },
      other: { ...recordAt(now), userId: "someone-else", meta: { ip: "::1", extra: { nested: [1, null] } } as SessionRecord["meta"] },
      anonymous: { ...recordAt(now), userId: null, data: JSON.parse('{"__proto__":"data","constructor":1,"cart":[]}') as Record<string, unknown> },
    };
    for (const [key, record] of Object.entries(records)) {
      await memory.create(key, record);
      const first = await cached.get(key);
      const hit = cached.peek(key);
      expect(hit, key).toStrictEqual(first);
      expect(hit, key).not.toBe(first);
      expect(Object.keys(hit!.data), key).toStrictEqual(Object.keys(first!.data));
    }
  });

  it("a record JSON would change (a Date, an undefined, -0) is served from memory by get's structuredClone: still a Date, still a copy; peek leaves it to get", async () => {
    const shared = new DatedStore();
    const cached = await cachedOver(shared);
    const key = "k-date";
    await shared.create(key, recordAt(Date.now()));
    expect((await cached.get(key))!.data.at).toBeInstanceOf(Date);
    // peek's record may be shared and holds JSON values only (the contract): this one is not, so get answers it.
    expect(cached.peek(key)).toBeUndefined();
    const hit = await cached.get(key);
    expect(shared.gets).toBe(1);
    expect(hit!.data.at).toBeInstanceOf(Date);
    expect((hit!.data.at as Date).getTime()).toBe(0);
    expect("unset" in hit!.data).toBe(true);
    expect(Object.is(hit!.data.zero, -0)).toBe(true);
    (hit!.data.at as Date).setTime(5);
    expect(((await cached.get(key))!.data.at as Date).getTime()).toBe(0);
    expect(shared.gets).toBe(1);
  });
});

describe("jsonExact", () => {
  it("accepts what JSON gives back exactly and refuses everything it would change", async () => {
    const { jsonExact } = await import("./json-exact.js");
    expect(jsonExact({ a: [1, "two", { three: null, four: true }], u: "\u{1F600}\u2028\0" })).toBe(true);
    for (const changed of [
      { at: new Date(0) },
      { missing: undefined },
      { n: NaN },
      { n: -0 },
      { big: Infinity },
      [1, , 3], // eslint-disable-line no-sparse-arrays -- a hole comes back as null
      { custom: new (class Point {})() },
      { toJSON: "x" },
      { [Symbol("s")]: 1 },
      { map: new Map() },
      Object.defineProperty({}, "hidden", { value: 1, enumerable: false }),
      Object.defineProperty({}, "computed", { get: () => 1, enumerable: true }),
    ]) {
      expect(jsonExact(changed)).toBe(false);
    }
  });
});
