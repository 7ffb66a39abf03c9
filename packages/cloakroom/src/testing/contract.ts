/**
 * The SessionStore contract suite: one vitest suite that every backend (built-in or third-party) runs, so "it is a
 * SessionStore" means the same thing for memory, SQLite, Redis, PostgreSQL and Memcached.
 *
 * It checks the rules written on {@link SessionStore} in `core/types.ts`: exact round trips, per-key atomic patches,
 * no resurrection by a racing patch, expiry enforced on read before any sweep, keys that are opaque strings, and the
 * per-user index. Tests that need a capability the store does not declare are skipped at run time with a note saying
 * why (capabilities are only known once a store is open, and opening one at collection time would hit servers that
 * the calling file may have decided to skip).
 */
import { createHash, randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TestContext } from "vitest";
import type { SessionRecord, SessionStore, StoreCapabilities, StoredSession } from "../core/types.js";

/** Opens stores on the backend under test for {@link runStoreContract}. */
export interface StoreContractFactory {
  /**
   * Open a store on the backend under test. `namespace` isolates one test's data (use it as key prefix / table name /
   * schema suffix); calling create twice with the same namespace must give two handles (connections/instances) onto
   * the SAME data (for memory: return the same instance). `now` is the fake clock the store must use.
   */
  create(options: { namespace: string; now: () => number }): SessionStore | Promise<SessionStore>;
  /**
   * What the store reports as `capabilities`. When given, tests that do not apply (e.g. "listByUser() rejects without
   * an index" for a store that has one) are not registered at all, and one test checks the store reports exactly
   * this. When left out, such tests open a store and skip themselves at run time, with a note.
   */
  capabilities?: StoreCapabilities;
}

/** A clock that starts at the real time and moves only when a test says so, and only forward. */
interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

/** What every test gets: its own namespace, clock, and a way to open handles that afterEach will clean up. */
interface ContractContext {
  clock: FakeClock;
  /** This test's namespace. */
  namespace: string;
  /** Open a handle on `namespace` (default: this test's). Every call opens a new handle. */
  open(namespace?: string): Promise<SessionStore>;
}

const MINUTE = 60_000;
const IDLE_MS = 30 * MINUTE;
const ABSOLUTE_MS = 24 * 60 * MINUTE;
/**
 * A lifetime that runs out within a test, by the fake clock. A full minute, not a second: native-TTL stores also
 * expire by the server's real clock, and a loaded machine can take seconds between creating a record and reading it.
 */
const SHORT_MS = MINUTE;
const NO_INDEX = "skipped: store has no per-user index";
const NO_COUNT = "skipped: store cannot count (capabilities.count is false)";

let namespaceCounter = 0;

/**
 * A fresh namespace: `ct_<pid>_<counter>_<time>_<random>`, only [a-z0-9_] and at most 40 characters, so a store can
 * use it as a key prefix, a table name suffix or a PostgreSQL schema name without quoting.
 */
function createNamespace(): string {
  namespaceCounter += 1;
  const random = randomBytes(5).readUInt32BE(0).toString(36);
  return `ct_${process.pid.toString(36)}_${namespaceCounter.toString(36)}_${Date.now().toString(36)}_${random}`;
}

function createFakeClock(): FakeClock {
  let current = Date.now();
  return {
    now: () => current,
    advance(ms: number): void {
      if (!(ms >= 0)) throw new RangeError(`the contract clock only moves forward (got ${ms})`);
      current += ms;
    },
  };
}

/** A store key shaped like the manager's: base64url(SHA-256(random ticket)), 43 characters. */
function newKey(): string {
  return createHash("sha256").update(randomBytes(32)).digest("base64url");
}

/** A complete, live record created "now"; `overrides` replace whole fields. */
function sessionRecord(clock: FakeClock, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = clock.now();
  const userId = overrides.userId === undefined ? "user-1" : overrides.userId;
  return {
    userId,
    data: userId === null ? { theme: "dark", cart: ["sku-1", "sku-2"] } : { userId, theme: "dark", cart: ["sku-1"] },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + IDLE_MS,
    absoluteExpiresAt: now + ABSOLUTE_MS,
    cookieMaxAge: null,
    version: 0,
    meta: { ip: "203.0.113.7", userAgent: "Mozilla/5.0 (contract suite)" },
    ...overrides,
  };
}

function keysOf(sessions: StoredSession[]): string[] {
  return sessions.map((session) => session.key);
}

/**
 * Register the SessionStore contract suite for one backend.
 *
 * Every test opens stores through `factory` on a namespace of its own, with a fake clock that starts at `Date.now()`
 * and only moves forward; afterEach clears and closes every store the test opened.
 *
 * @param name the store's name, used as the suite title (e.g. `"RedisStore"`)
 * @param factory opens a handle onto a namespace (two calls with one namespace = two handles onto the same data)
 * @example
 * import { runStoreContract } from "cloakroom/testing";
 * import { MyStore } from "../src/my-store.js";
 *
 * runStoreContract("MyStore", {
 *   create: ({ namespace, now }) => new MyStore({ prefix: `${namespace}:`, now }),
 * });
 */
export function runStoreContract(name: string, factory: StoreContractFactory): void {
  const declared = factory.capabilities;
  /** Whether a test that needs `need` applies: decided now from the declared capabilities, else at run time. */
  const applies = (need: (capabilities: StoreCapabilities) => boolean): boolean => (declared ? need(declared) : true);
  describe(`${name} — SessionStore contract`, () => {
    let ctx: ContractContext;
    let opened: { namespace: string; store: SessionStore }[] = [];

    beforeEach(() => {
      const clock = createFakeClock();
      const namespace = createNamespace();
      opened = [];
      ctx = {
        clock,
        namespace,
        async open(ns = namespace): Promise<SessionStore> {
          const store = await factory.create({ namespace: ns, now: clock.now });
          opened.push({ namespace: ns, store });
          return store;
        },
      };
    });

    afterEach(async () => {
      const errors: unknown[] = [];
      const cleared = new Set<string>();
      const closed = new Set<SessionStore>();
      // Clear each namespace once (its handles share the data), then close every distinct handle, even after a failure.
      for (const { namespace, store } of opened) {
        if (cleared.has(namespace)) continue;
        cleared.add(namespace);
        await store.clear().catch((error: unknown) => errors.push(error));
      }
      for (const { store } of opened) {
        if (closed.has(store)) continue;
        closed.add(store);
        await store.close().catch((error: unknown) => errors.push(error));
      }
      if (errors.length > 0) throw new AggregateError(errors, `${name}: cleaning up after the test failed`);
    });

    /** Open this test's store and skip the test (with `note`) unless `needs` holds for its capabilities. */
    async function openRequiring(
      test: TestContext,
      needs: (store: SessionStore) => boolean,
      note: string,
    ): Promise<SessionStore> {
      const store = await ctx.open();
      if (!needs(store)) test.skip(note);
      return store;
    }

    if (declared) {
      it("reports the declared capabilities", async () => {
        expect((await ctx.open()).capabilities).toEqual(declared);
      });
    }

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

      it("peek(), where a store offers it, never contradicts get(): a copy or defer, nothing expired or destroyed", async () => {
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
          peeked!.data.theme = "light";
          expect(store.peek(live) ?? (await store.get(live))).toStrictEqual(record);
        }
        expect(store.peek(newKey()) ?? null).toBeNull();
        expect(store.peek(gone) ?? null).toBeNull();
        expect(store.peek(stale) ?? null).toBeNull();
      });
    });

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

    describe("concurrency across two handles", () => {
      it("patches of different keys from two handles both survive", async () => {
        const [a, b] = [await ctx.open(), await ctx.open()];
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

      it("200 concurrent patches of distinct keys on one session (over two handles) all survive", async () => {
        const [a, b] = [await ctx.open(), await ctx.open()];
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

      it("a destroy racing a patch never resurrects the session (logout on A while B saves)", async () => {
        const [a, b] = [await ctx.open(), await ctx.open()];
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

    describe("per-user index", () => {
      if (applies((c) => c.listByUser)) it("listByUser() returns only that user's live sessions, newest createdAt first", async (test) => {
        const store = await openRequiring(test, (s) => s.capabilities.listByUser, NO_INDEX);
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

      if (applies((c) => c.listByUser)) it("listByUser() never lists anonymous sessions", async (test) => {
        const store = await openRequiring(test, (s) => s.capabilities.listByUser, NO_INDEX);
        await store.create(newKey(), sessionRecord(ctx.clock, { userId: null }));
        for (const userId of ["null", "", "undefined", "0"]) expect(await store.listByUser(userId)).toEqual([]);
      });

      if (applies((c) => !c.listByUser)) it("listByUser() rejects with a TypeError when the store has no per-user index", async (test) => {
        const store = await openRequiring(test, (s) => !s.capabilities.listByUser, "skipped: store has a per-user index");
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

    describe("count and clear", () => {
      if (applies((c) => c.count)) it("count() counts live records only", async (test) => {
        const store = await openRequiring(test, (s) => s.capabilities.count, NO_COUNT);
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

      if (applies((c) => !c.count)) it("count() rejects with a TypeError when the store cannot count", async (test) => {
        const store = await openRequiring(test, (s) => !s.capabilities.count, "skipped: store can count");
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
  });
}
