/**
 * CachedStore against the real servers, never a mock: the shared contract over Redis and over PostgreSQL, where two
 * handles are two CachedStore instances (each with its own store and channel connections) on one shared store — the
 * multi-instance case — then what the cache adds: hits without a round trip, invalidation between instances (the
 * latency is measured and printed), the read-versus-invalidation race, channel outages, and the ttl guard.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SessionPatch, SessionRecord, SessionStore, StoredSession } from "../src/core/types.js";
import {
  CachedStore,
  PostgresInvalidationChannel,
  RedisInvalidationChannel,
  type Invalidation,
  type InvalidationChannel,
} from "../src/stores/cached.js";
import { PostgresStore } from "../src/stores/postgres.js";
import { RedisStore } from "../src/stores/redis.js";
import { runStoreContract } from "../src/testing/index.js";
import { DATABASE_URL, postgresReachable, REDIS_URL, redisReachable, uniqueSuffix } from "./servers.js";

const [redisUp, postgresUp] = [await redisReachable(), await postgresReachable()];
const run = uniqueSuffix();
const MINUTE = 60_000;
/** How long a cut channel connection stays down before it reconnects by itself: long enough to observe the bypass. */
const RECOVERY_MS = 1_000;
const LATENCY_RUNS = 50;

function newKey(): string {
  return randomBytes(32).toString("base64url");
}

function recordAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const userId = overrides.userId === undefined ? "user-1" : overrides.userId;
  return {
    userId,
    data: userId === null ? { cart: ["sku-1"] } : { userId, cart: ["sku-1"] },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * 60 * MINUTE,
    cookieMaxAge: null,
    version: 0,
    meta: { ip: "203.0.113.7" },
    ...overrides,
  };
}

/** Resolve once `condition` holds (checked every 1 ms) with the time it took; reject after `timeoutMs`. */
async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(1);
  }
  return performance.now() - started;
}

/** Median and p99 (nearest rank) of a sample, in ms with two decimals. */
function summarize(sample: number[]): { median: string; p99: string } {
  const sorted = [...sample].sort((x, y) => x - y);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 0 ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
  return { median: median.toFixed(2), p99: sorted[Math.ceil(0.99 * sorted.length) - 1]!.toFixed(2) };
}

/**
 * Resolve once `instance` has received a message matching `match` (among those received from index `from` on).
 * Every write publishes, creates included, and an invalidation that arrives while a read is in flight rightly stops
 * that read from filling the cache; so a test that expects B to cache what A just wrote waits for A's message first.
 */
function heard(instance: Instance, what: string, match: (message: Invalidation) => boolean, from = 0): Promise<number> {
  return waitUntil(() => instance.channel.received.slice(from).some(match), `${what} reached the other instance`, 1_000);
}

function aboutKey(key: string): (message: Invalidation) => boolean {
  return (message) => message.type === "key" && message.key === key;
}

/**
 * The real shared store behind a CachedStore, counting the reads that reach it. `afterRead` (when set) runs between the
 * shared store's answer and the cache seeing it, to hold a read in flight. Closing it also releases `release`.
 */
class InstrumentedStore implements SessionStore {
  gets = 0;
  closed = false;
  afterRead: (() => Promise<void>) | undefined;

  constructor(
    private readonly inner: SessionStore,
    private readonly release: () => Promise<void> = async () => {},
  ) {}

  get capabilities(): SessionStore["capabilities"] {
    return this.inner.capabilities;
  }

  async get(key: string): Promise<SessionRecord | null> {
    this.gets += 1;
    const record = await this.inner.get(key);
    await this.afterRead?.();
    return record;
  }
  create(key: string, record: SessionRecord): Promise<void> {
    return this.inner.create(key, record);
  }
  patch(key: string, patch: SessionPatch): Promise<boolean> {
    return this.inner.patch(key, patch);
  }
  touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    return this.inner.touch(key, idleExpiresAt, touchedAt);
  }
  destroy(key: string): Promise<void> {
    return this.inner.destroy(key);
  }
  listByUser(userId: string): Promise<StoredSession[]> {
    return this.inner.listByUser(userId);
  }
  destroyByUser(userId: string, options?: { except?: string }): Promise<number> {
    return this.inner.destroyByUser(userId, options);
  }
  clear(): Promise<void> {
    return this.inner.clear();
  }
  count(): Promise<number> {
    return this.inner.count();
  }
  sweep(): Promise<number> {
    return this.inner.sweep();
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
    await this.release();
  }
}

/** The real channel, recording what it delivers; `losePublishes` makes this instance's messages vanish (a lost message). */
class ObservedChannel implements InvalidationChannel {
  readonly received: Invalidation[] = [];
  /** performance.now() when each message of `received` was handed to the CachedStore. */
  readonly receivedAt: number[] = [];
  losePublishes = false;

  constructor(readonly inner: InvalidationChannel) {}

  async publish(message: Invalidation): Promise<void> {
    if (!this.losePublishes) await this.inner.publish(message);
  }
  subscribe(onMessage: (message: Invalidation) => void, onState: (connected: boolean) => void): Promise<void> {
    return this.inner.subscribe((message) => {
      this.received.push(message);
      this.receivedAt.push(performance.now());
      onMessage(message);
    }, onState);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** One application instance: its CachedStore, the shared store as it sees it, and its channel. */
interface Instance {
  store: CachedStore;
  shared: InstrumentedStore;
  channel: ObservedChannel;
  /** Kill this instance's channel connection from the server side; it reconnects by itself after RECOVERY_MS. */
  cutChannel(): Promise<void>;
}

interface OpenOptions {
  now?: () => number;
  ttl?: number;
  /** Default true: the instance owns its shared-store connections and closes them with the CachedStore. */
  closeStore?: boolean;
}

/** How one backend opens instances on a namespace (a key prefix or a table) of its shared data. */
interface Backend {
  name: string;
  /** The message type another instance receives for a destroy of a 10 kB key. */
  longKeyMessage: Invalidation["type"];
  open(namespace: string, options?: OpenOptions): Promise<Instance>;
}

/** A CachedStore on `shared`, resolved once its channel is subscribed (so the cache is really in play). */
async function openCached(shared: InstrumentedStore, channel: ObservedChannel, options: OpenOptions): Promise<CachedStore> {
  const store = new CachedStore({
    store: shared,
    invalidation: channel,
    now: options.now,
    ttl: options.ttl,
    closeStore: options.closeStore ?? true,
  });
  await waitUntil(() => store.caching, "the invalidation channel is subscribed");
  return store;
}

let instanceCounter = 0;

function redisBackend(admin: () => Redis): Backend {
  return {
    name: "Redis",
    longKeyMessage: "key",
    async open(namespace, options = {}) {
      instanceCounter += 1;
      const subscriberName = `cloakroom-test-${run}-${instanceCounter}`;
      const client = new Redis(REDIS_URL);
      const subscriber = new Redis(REDIS_URL, { connectionName: subscriberName, retryStrategy: () => RECOVERY_MS });
      const shared = new InstrumentedStore(
        new RedisStore({ client, prefix: `cloakroom:test:${run}:${namespace}:`, now: options.now }),
        async () => {
          await client.quit();
          subscriber.disconnect();
        },
      );
      const channel = new ObservedChannel(
        new RedisInvalidationChannel({ client, subscriber, channel: `cloakroom:test:${run}:${namespace}:invalidation` }),
      );
      const store = await openCached(shared, channel, options);
      return {
        store,
        shared,
        channel,
        async cutChannel() {
          const clients = (await admin().client("LIST")) as string;
          const line = clients.split("\n").find((entry) => entry.includes(` name=${subscriberName} `));
          const id = line === undefined ? undefined : /(?:^|\s)id=(\d+)/.exec(line)?.[1];
          if (id === undefined) throw new Error(`no Redis connection named ${subscriberName}`);
          await admin().client("KILL", "ID", id);
        },
      };
    },
  };
}

function postgresBackend(schema: string, admin: () => pg.Pool): Backend {
  return {
    name: "PostgreSQL",
    longKeyMessage: "all",
    async open(namespace, options = {}) {
      instanceCounter += 1;
      // Names this instance's connections, so the test can find its LISTEN connection among the others.
      const applicationName = `cloakroom_test_${process.pid}_${instanceCounter}`;
      const url = new URL(DATABASE_URL);
      url.searchParams.set("application_name", applicationName);
      const shared = new InstrumentedStore(
        new PostgresStore({ connectionString: DATABASE_URL, schema, tableName: namespace, poolSize: 2, sweepInterval: 0, now: options.now }),
      );
      const channel = new ObservedChannel(
        new PostgresInvalidationChannel({ connectionString: url.toString(), channel: `inv_${namespace}`, reconnectDelay: () => RECOVERY_MS }),
      );
      const store = await openCached(shared, channel, options);
      return {
        store,
        shared,
        channel,
        async cutChannel() {
          const { rows } = await admin().query<{ killed: boolean }>(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
              WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
            [applicationName],
          );
          expect(rows).toEqual([{ killed: true }]);
        },
      };
    },
  };
}

/** Everything the cache adds over the shared store, for one backend. */
function describeCacheBehaviour(backend: Backend): void {
  describe(`CachedStore over ${backend.name} — the cache`, () => {
    let opened: { namespace: string; instance: Instance }[] = [];
    let namespaceCounter = 0;

    /** `count` instances on one fresh namespace (shared data), closed and cleared after the test. */
    async function openInstances(count: number, options: OpenOptions = {}): Promise<Instance[]> {
      namespaceCounter += 1;
      const namespace = `cb${namespaceCounter}_${run}`;
      const instances: Instance[] = [];
      for (let i = 0; i < count; i++) {
        const instance = await backend.open(namespace, options);
        opened.push({ namespace, instance });
        instances.push(instance);
      }
      return instances;
    }

    afterEach(async () => {
      const cleared = new Set<string>();
      const errors: unknown[] = [];
      // Clear each namespace once, through any instance whose shared store is still open.
      for (const { namespace, instance } of opened) {
        if (cleared.has(namespace) || instance.shared.closed) continue;
        cleared.add(namespace);
        await instance.shared.clear().catch((error: unknown) => errors.push(error));
      }
      for (const { instance } of opened) {
        await instance.store.close().catch((error: unknown) => errors.push(error));
        if (!instance.shared.closed) await instance.shared.close().catch((error: unknown) => errors.push(error));
      }
      opened = [];
      if (errors.length > 0) throw new AggregateError(errors, "cleaning up after the test failed");
    });

    it("a second get() is served from memory, without a round trip to the shared store", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const key = newKey();
      const record = recordAt(Date.now());
      await a.store.create(key, record);
      await heard(b, "A's create", aboutKey(key));

      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);
      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);
      // The writer's cache too is filled only by a read (see the next test for why).
      expect(await a.store.get(key)).toStrictEqual(record);
      expect(await a.store.get(key)).toStrictEqual(record);
      expect(a.shared.gets).toBe(1);

      // What a hit hands out is a copy.
      const handedOut = await b.store.get(key);
      (handedOut!.data.cart as string[]).push("injected");
      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);

      // Misses are not cached: a key nobody created is asked for every time.
      const missing = newKey();
      expect(await b.store.get(missing)).toBeNull();
      expect(await b.store.get(missing)).toBeNull();
      expect(b.shared.gets).toBe(3);
    });

    it("writes never fill the cache, so values come back as the shared store renders them (a Date as its JSON)", async () => {
      const [a] = (await openInstances(1)) as [Instance];
      const key = newKey();
      await a.store.create(key, recordAt(Date.now(), { data: { userId: "user-1", at: new Date(0) } }));
      expect((await a.store.get(key))?.data.at).toBe("1970-01-01T00:00:00.000Z");
      expect((await a.store.get(key))?.data.at).toBe("1970-01-01T00:00:00.000Z"); // the cached copy, same rendering
      expect(a.shared.gets).toBe(1);
    });

    it("a patch on A is seen by B's next read once the invalidation arrives, and A reads its own write at once", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const key = newKey();
      await a.store.create(key, recordAt(Date.now()));
      await heard(b, "A's create", aboutKey(key));
      await b.store.get(key);
      expect(await a.store.patch(key, { set: { theme: "dark" } })).toBe(true);
      expect((await a.store.get(key))?.data.theme).toBe("dark");
      await waitUntil(async () => (await b.store.get(key))?.data.theme === "dark", "B sees the patch", 1_000);
      const reads = b.shared.gets;
      expect((await b.store.get(key))?.version).toBe(1);
      expect(b.shared.gets).toBe(reads); // cached again after the read-through
    });

    it(`a destroy on A is seen by B, which had the session cached (${LATENCY_RUNS} runs, latency printed)`, async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const latencies: number[] = [];
      const deliveries: number[] = [];
      for (let i = 0; i < LATENCY_RUNS; i++) {
        const key = newKey();
        const record = recordAt(Date.now(), { data: { userId: "user-1", i } });
        await a.store.create(key, record);
        await heard(b, "A's create", aboutKey(key));
        await b.store.get(key);
        const reads = b.shared.gets;
        expect(await b.store.get(key)).toStrictEqual(record);
        expect(b.shared.gets).toBe(reads); // B really serves it from memory

        await a.store.destroy(key);
        const destroyedAt = performance.now();
        while ((await b.store.get(key)) !== null) {
          if (performance.now() - destroyedAt > 1_000) throw new Error(`run ${i}: B still serves the destroyed session after 1 s`);
          await sleep(1);
        }
        latencies.push(performance.now() - destroyedAt);
        const delivered = b.channel.received.findLastIndex(aboutKey(key));
        deliveries.push(b.channel.receivedAt[delivered]! - destroyedAt);
      }
      const [seen, delivery] = [summarize(latencies), summarize(deliveries)];
      console.log(
        `CachedStore over ${backend.name} (${LATENCY_RUNS} runs): destroy() resolved on A → get() null on B (polled every ` +
          `1 ms): median ${seen.median} ms, p99 ${seen.p99} ms; → message handled by B: median ${delivery.median} ms, ` +
          `p99 ${delivery.p99} ms (negative: B had it before A's caller resumed)`,
      );
      expect(Math.max(...latencies)).toBeLessThan(1_000);
    });

    it("destroyByUser() on A drops every cached session of that user on B, and only those", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const now = Date.now();
      const mine = [newKey(), newKey(), newKey()];
      const others = new Map([
        [newKey(), recordAt(now, { userId: "user-2" })],
        [newKey(), recordAt(now, { userId: null })],
      ]);
      for (const key of mine) await a.store.create(key, recordAt(now));
      for (const [key, record] of others) await a.store.create(key, record);
      for (const key of [...mine, ...others.keys()]) await heard(b, "A's create", aboutKey(key));
      for (const key of [...mine, ...others.keys()]) await b.store.get(key);
      const readsBefore = b.shared.gets;
      for (const key of mine) expect(await b.store.get(key)).not.toBeNull();
      expect(b.shared.gets).toBe(readsBefore);

      expect(await a.store.destroyByUser("user-1")).toBe(3);
      await waitUntil(
        async () => (await Promise.all(mine.map((key) => b.store.get(key)))).every((record) => record === null),
        "B sees every session of user-1 revoked",
        1_000,
      );
      const reads = b.shared.gets;
      for (const [key, record] of others) expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(reads); // the other users' sessions stayed cached
    });

    describe("a read that began before an invalidation does not fill the cache with what it read", () => {
      it.each([
        ["destroy() of the key", (a: Instance, key: string) => a.store.destroy(key), "key"],
        ["destroyByUser() of its user", (a: Instance) => a.store.destroyByUser("user-1").then(() => {}), "user"],
      ] as const)("when the invalidation is a %s", async (_case, revoke, type) => {
        const [a, b] = (await openInstances(2)) as [Instance, Instance];
        const key = newKey();
        const record = recordAt(Date.now());
        await a.store.create(key, record);
        await heard(b, "A's create", aboutKey(key));

        // B reads the live record, then its answer is held while A revokes and B receives the invalidation.
        let release: (() => void) | undefined;
        b.shared.afterRead = () => new Promise<void>((resolve) => (release = resolve));
        const inFlight = b.store.get(key);
        await waitUntil(() => release !== undefined, "B's read reached the shared store");
        b.shared.afterRead = undefined;
        const from = b.channel.received.length;
        await revoke(a, key);
        await heard(b, "A's revocation", (m) => m.type === type, from);
        release!();

        // The read began before the revocation, so returning the old value is linearizable; caching it would not be.
        expect(await inFlight).toStrictEqual(record);
        const reads = b.shared.gets;
        expect(await b.store.get(key)).toBeNull();
        expect(b.shared.gets).toBe(reads + 1);
      });
    });

    it("while B's channel is down B bypasses its cache, so a destroy made meanwhile is seen; once back, B caches again", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const now = Date.now();
      const [gone, kept] = [newKey(), newKey()];
      const keptRecord = recordAt(now, { data: { userId: "user-1", kept: true } });
      await a.store.create(gone, recordAt(now));
      await a.store.create(kept, keptRecord);
      for (const key of [gone, kept]) await heard(b, "A's create", aboutKey(key));
      await b.store.get(gone);
      await b.store.get(kept);
      expect(b.store.size).toBe(2);

      await b.cutChannel();
      const detectionMs = await waitUntil(() => !b.store.caching, "B notices that its channel is down", 2_000);
      expect(b.store.size).toBe(0); // flushed: entries may miss the messages sent during the outage

      await a.store.destroy(gone); // published while B is not subscribed: B never receives it
      expect(await b.store.get(gone)).toBeNull();
      const reads = b.shared.gets;
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(b.shared.gets).toBe(reads + 2); // every get reads through
      expect(b.store.caching).toBe(false); // the outage lasted through the checks above

      const recoveryMs = await waitUntil(() => b.store.caching, "B's channel is subscribed again", 10_000);
      const readsAfter = b.shared.gets;
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(b.shared.gets).toBe(readsAfter + 1);
      // Invalidations reach B again (well within the 5 s ttl, so the ttl cannot be what makes this pass).
      await a.store.destroy(kept);
      await waitUntil(async () => (await b.store.get(kept)) === null, "B sees a destroy made after the recovery", 1_000);
      console.log(
        `CachedStore over ${backend.name}: channel cut noticed after ${detectionMs.toFixed(1)} ms; ` +
          `subscribed again ${recoveryMs.toFixed(0)} ms later (reconnect delay ${RECOVERY_MS} ms)`,
      );
    });

    it("with an invalidation lost on a connected channel, B serves the stale entry for ttl ms and not one more (fake clock)", async () => {
      let clock = Date.now();
      const now = (): number => clock;
      const [a, b] = (await openInstances(2, { now, ttl: 200 })) as [Instance, Instance];
      a.channel.losePublishes = true;
      const key = newKey();
      const record = recordAt(clock);
      await a.store.create(key, record);
      await b.store.get(key);

      await a.store.destroy(key);
      await sleep(50); // ample time for a message to arrive, had one been sent
      expect(b.channel.received).toEqual([]);
      clock += 199;
      expect(await b.store.get(key)).toStrictEqual(record);
      clock += 1;
      expect(await b.store.get(key)).toBeNull();
    });

    it("with an invalidation lost on a connected channel, staleness ends at ttl in real time", async () => {
      const ttl = 200;
      const [a, b] = (await openInstances(2, { ttl })) as [Instance, Instance];
      a.channel.losePublishes = true;
      const key = newKey();
      await a.store.create(key, recordAt(Date.now()));
      const filledAt = performance.now();
      await b.store.get(key);
      await a.store.destroy(key);
      expect(await b.store.get(key)).not.toBeNull();
      await waitUntil(async () => (await b.store.get(key)) === null, "B stops serving the stale entry", ttl + 500);
      const staleFor = performance.now() - filledAt;
      console.log(`CachedStore over ${backend.name}: lost invalidation, stale entry served for ${staleFor.toFixed(0)} ms (ttl ${ttl} ms)`);
      expect(staleFor).toBeGreaterThanOrEqual(ttl - 2); // Date.now() (the entry's clock) ticks in whole ms
      expect(staleFor).toBeLessThan(ttl + 300);
    });

    it(`a 10 kB key is invalidated on the other instance (as a "${backend.longKeyMessage}" message)`, async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const longKey = `k${"🔑".repeat(2_560)}`; // 10 kB of UTF-8
      await a.store.create(longKey, recordAt(Date.now()));
      await heard(b, "A's create", (m) => m.type === backend.longKeyMessage);
      await b.store.get(longKey);
      const reads = b.shared.gets;
      expect(await b.store.get(longKey)).not.toBeNull();
      expect(b.shared.gets).toBe(reads); // cached, so only the invalidation can make it go
      await a.store.destroy(longKey);
      await waitUntil(async () => (await b.store.get(longKey)) === null, "B sees the long key destroyed", 1_000);
      expect(b.channel.received.map((m) => m.type)).toEqual([backend.longKeyMessage, backend.longKeyMessage]);
    });

    it("close() closes the channel and leaves the shared store open unless closeStore is set", async () => {
      const [instance] = (await openInstances(1, { closeStore: false })) as [Instance];
      const key = newKey();
      await instance.store.create(key, recordAt(Date.now()));
      await instance.store.close();
      expect(instance.store.caching).toBe(false);
      expect(instance.shared.closed).toBe(false);
      expect(await instance.shared.get(key)).not.toBeNull();
      await expect(instance.channel.publish({ type: "all", origin: "test" })).rejects.toThrow(/after close/);
      await instance.store.close(); // idempotent

      const [owning] = (await openInstances(1, { closeStore: true })) as [Instance];
      await owning.store.close();
      expect(owning.shared.closed).toBe(true);
    });
  });
}

describe.skipIf(!redisUp)("CachedStore over Redis", () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    // Every test clears its namespace; this only catches what a failed test left behind.
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `cloakroom:test:${run}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== "0");
    await admin.quit();
  });

  const backend = redisBackend(() => admin);
  runStoreContract("CachedStore over Redis", {
    capabilities: { listByUser: true, nativeTtl: true, count: true },
    create: async ({ namespace, now }) => (await backend.open(namespace, { now })).store,
  });
  describeCacheBehaviour(backend);

  describe("configuration", () => {
    it("rejects invalid options with TypeErrors naming them", async () => {
      const client = new Redis(REDIS_URL, { lazyConnect: true });
      const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }], { lazyConnect: true });
      try {
        const store = new RedisStore({ client, prefix: `cloakroom:test:${run}:config:` });
        const channel = (): RedisInvalidationChannel => new RedisInvalidationChannel({ client });
        expect(() => new CachedStore({ invalidation: channel() } as never)).toThrow(/store option/);
        expect(() => new CachedStore({ store, invalidation: {} as never })).toThrow(/invalidation option/);
        expect(() => new CachedStore({ store, invalidation: channel(), maxEntries: 0 })).toThrow(/maxEntries option/);
        expect(() => new CachedStore({ store, invalidation: channel(), ttl: Infinity })).toThrow(/ttl option/);
        expect(() => new CachedStore({ store, invalidation: channel(), ttl: 0 })).toThrow(/ttl option/);
        expect(() => new CachedStore({ store, invalidation: channel(), now: 1 as never })).toThrow(/now option/);
        expect(() => new CachedStore({ store, invalidation: channel(), maxEntries: 1.5 })).toThrow(TypeError);

        expect(() => new RedisInvalidationChannel({} as never)).toThrow(/client option/);
        expect(() => new RedisInvalidationChannel({ client, channel: "" })).toThrow(/channel option/);
        expect(() => new RedisInvalidationChannel({ client, subscriber: client })).toThrow(/subscriber option/);
        expect(() => new RedisInvalidationChannel({ client: cluster })).toThrow(/Cluster client, pass the subscriber option/);

        expect(() => new PostgresInvalidationChannel({})).toThrow(/pool option or the connectionString option/);
        expect(() => new PostgresInvalidationChannel({ connectionString: DATABASE_URL, channel: "c".repeat(64) })).toThrow(/channel option/);
        expect(() => new PostgresInvalidationChannel({ connectionString: DATABASE_URL, channel: "a\0b" })).toThrow(TypeError);
      } finally {
        client.disconnect();
        cluster.disconnect();
      }
    });

    it("refuses a channel already used by another CachedStore", async () => {
      const client = new Redis(REDIS_URL);
      const channel = new RedisInvalidationChannel({ client, channel: `cloakroom:test:${run}:shared-channel` });
      const store = new RedisStore({ client, prefix: `cloakroom:test:${run}:shared-channel:` });
      const first = new CachedStore({ store, invalidation: channel });
      try {
        expect(() => new CachedStore({ store, invalidation: channel })).toThrow(/already used by another CachedStore/);
      } finally {
        await first.close();
        await client.quit();
      }
    });

    it("a channel that refuses to subscribe leaves the cache bypassed and reports it through onError", async () => {
      const client = new Redis(REDIS_URL);
      const channel = new RedisInvalidationChannel({ client, channel: `cloakroom:test:${run}:refused` });
      await channel.close();
      const errors: Error[] = [];
      const shared = new InstrumentedStore(new RedisStore({ client, prefix: `cloakroom:test:${run}:refused:` }));
      const store = new CachedStore({ store: shared, invalidation: channel, onError: (error) => errors.push(error) });
      try {
        await waitUntil(() => errors.length > 0, "onError is called", 1_000);
        expect(errors[0]?.message).toMatch(/refused to subscribe/);
        expect((errors[0]?.cause as Error).message).toMatch(/subscribe after close/);
        const key = newKey();
        await store.create(key, recordAt(Date.now())).catch(() => {}); // its publish fails on the closed channel
        expect(store.caching).toBe(false);
        await store.get(key);
        await store.get(key);
        expect(shared.gets).toBe(2);
        await shared.destroy(key);
      } finally {
        await store.close();
        await client.quit();
      }
    });
  });
});

describe.skipIf(!postgresUp)("CachedStore over PostgreSQL", () => {
  const schema = `cloakroom_cached_${run}`;
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    await admin.query(`CREATE SCHEMA "${schema}"`);
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  // Every namespace of the contract suite is a table of this run's schema and a NOTIFY channel of its own.
  const backend = postgresBackend(schema, () => admin);
  runStoreContract("CachedStore over PostgreSQL", {
    capabilities: { listByUser: true, nativeTtl: false, count: true },
    create: async ({ namespace, now }) => (await backend.open(namespace, { now })).store,
  });
  describeCacheBehaviour(backend);

  it("a publish failure rejects the write, saying the write itself was applied", async () => {
    const tableName = `publish_failure_${process.pid}`;
    const shared = new InstrumentedStore(new PostgresStore({ connectionString: DATABASE_URL, schema, tableName, poolSize: 1, sweepInterval: 0 }));
    const channelPool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const channel = new PostgresInvalidationChannel({ pool: channelPool, channel: `inv_${tableName}` });
    const store = new CachedStore({ store: shared, invalidation: channel, closeStore: true });
    try {
      await waitUntil(() => store.caching, "the channel is subscribed");
      const key = newKey();
      await channelPool.end(); // the publishing pool is gone: NOTIFY cannot be sent
      const error = await store.create(key, recordAt(Date.now())).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^CachedStore: create was applied to the shared store, but publishing/);
      expect(((error as Error).cause as Error).message).toMatch(/^PostgresInvalidationChannel: publish failed/);
      expect(await shared.get(key)).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
