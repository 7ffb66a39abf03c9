/**
 * What every group of the store contract suite shares: the fake clock, namespaces, record and key makers, the
 * per-test context that opens (and afterwards clears and closes) store handles, and the one capability gate
 * {@link ContractSuite.itWhen}.
 */
import { createHash, randomBytes } from "node:crypto";
import { it } from "vitest";
import type { SessionRecord, SessionStore, StoreCapabilities, StoredSession } from "../core/types.js";

/** Opens stores on the backend under test for `runStoreContract`. */
export interface StoreContractFactory {
  /**
   * Open a store on the backend under test. `namespace` isolates one test's data (use it as key prefix / table name /
   * schema suffix); calling create twice with the same namespace must give two handles (connections/instances) onto
   * the SAME data (for memory: return the same instance). `now` is the fake clock the store must use.
   */
  create(options: { namespace: string; now: () => number }): SessionStore | Promise<SessionStore>;
  /**
   * What the store reports as `capabilities`. When given, tests that do not apply (e.g. "listByUser() rejects without
   * an index" for a store that has one) are registered as skipped without opening a store, and one test checks the
   * store reports exactly this. When left out, such tests open a store and skip themselves at run time, with a note.
   */
  capabilities?: StoreCapabilities;
}

/** A clock that starts at the real time and moves only when a test says so, and only forward. */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

/** What every test gets: its own namespace, clock, and a way to open handles that afterEach will clean up. */
export interface ContractContext {
  clock: FakeClock;
  /** This test's namespace. */
  namespace: string;
  /** Open a handle on `namespace` (default: this test's). Every call opens a new handle. */
  open(namespace?: string): Promise<SessionStore>;
}

/**
 * A capability a test needs (`"listByUser"`) or needs absent (`"!listByUser"`). `"!wholeRecords"` is an atomic
 * per-key patch: a store that only replaces whole records (an express-session store) cannot give one.
 */
export type Capability = "listByUser" | "count" | "!listByUser" | "!count" | "!wholeRecords";

/** The per-test context and the gate, handed to every group of tests. */
export interface ContractSuite {
  /** The store's name (the suite title). */
  name: string;
  /** The running test's context (the same object throughout; beforeEach renews its fields). */
  ctx: ContractContext;
  /**
   * Register a test that only applies when the store has (or lacks) `capability`. With declared capabilities a test
   * that does not apply is registered as skipped (so a group whose every test is ruled out still lists them);
   * otherwise it opens the store and skips itself with a note when the store's capabilities rule it out. `body` gets the opened store.
   */
  itWhen(capability: Capability, name: string, body: (store: SessionStore) => Promise<void>): void;
}

export const MINUTE = 60_000;
export const IDLE_MS = 30 * MINUTE;
export const ABSOLUTE_MS = 24 * 60 * MINUTE;
/**
 * A lifetime that runs out within a test, by the fake clock. A full minute, not a second: native-TTL stores also
 * expire by the server's real clock, and a loaded machine can take seconds between creating a record and reading it.
 */
export const SHORT_MS = MINUTE;

let namespaceCounter = 0;

/**
 * A fresh namespace: `ct_<pid>_<counter>_<time>_<random>`, only [a-z0-9_] and at most 40 characters, so a store can
 * use it as a key prefix, a table name suffix or a PostgreSQL schema name without quoting.
 */
export function createNamespace(): string {
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
export function newKey(): string {
  return createHash("sha256").update(randomBytes(32)).digest("base64url");
}

/** A complete, live record created "now"; `overrides` replace whole fields. */
export function sessionRecord(clock: FakeClock, overrides: Partial<SessionRecord> = {}): SessionRecord {
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

export function keysOf(sessions: StoredSession[]): string[] {
  return sessions.map((session) => session.key);
}

function holds(capabilities: StoreCapabilities, capability: Capability): boolean {
  const negated = capability.startsWith("!");
  const name = (negated ? capability.slice(1) : capability) as "listByUser" | "count" | "wholeRecords";
  return (capabilities[name] ?? false) !== negated; // wholeRecords may be left out: absent = false
}

/** The suite's shared state: {@link ContractSuite} plus the hooks that renew and clean up each test's context. */
export function createContractSuite(
  name: string,
  factory: StoreContractFactory,
): ContractSuite & { reset(): void; cleanUp(): Promise<void> } {
  let opened: { namespace: string; store: SessionStore }[] = [];
  const ctx: ContractContext = {
    clock: createFakeClock(),
    namespace: createNamespace(),
    async open(ns = ctx.namespace): Promise<SessionStore> {
      const store = await factory.create({ namespace: ns, now: ctx.clock.now });
      opened.push({ namespace: ns, store });
      return store;
    },
  };
  const declared = factory.capabilities;
  return {
    name,
    ctx,
    itWhen(capability, title, body): void {
      if (declared) {
        if (holds(declared, capability)) it(title, async () => body(await ctx.open()));
        else it.skip(title, async () => body(await ctx.open()));
        return;
      }
      it(title, async (test) => {
        const store = await ctx.open();
        if (!holds(store.capabilities, capability)) test.skip(`skipped: the store's capabilities rule out "${capability}"`);
        await body(store);
      });
    },
    reset(): void {
      ctx.clock = createFakeClock();
      ctx.namespace = createNamespace();
      opened = [];
    },
    async cleanUp(): Promise<void> {
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
    },
  };
}
