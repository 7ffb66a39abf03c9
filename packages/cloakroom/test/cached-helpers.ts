/**
 * What the CachedStore test files share (cached.*.test.ts): helpers, a shared store that counts its reads, a channel
 * that can lose publishes, one backend per server (Redis, PostgreSQL) that opens application instances on a
 * namespace, and the describe blocks that connect to each server.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect } from "vitest";
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
import { redisClients, type RedisClient } from "./redis-clients.js";
import { DATABASE_URL, postgresReachable, REDIS_URL, redisReachable, uniqueSuffix } from "./servers.js";

export const [redisUp, postgresUp] = [await redisReachable(), await postgresReachable()];
export const run = uniqueSuffix();
export const MINUTE = 60_000;
/** How long a cut channel connection stays down before it reconnects by itself: long enough to observe the bypass. */
export const RECOVERY_MS = 1_000;
export const LATENCY_RUNS = 50;

export function newKey(): string {
  return randomBytes(32).toString("base64url");
}

export function recordAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
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
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(1);
  }
  return performance.now() - started;
}

/** Median and p99 (nearest rank) of a sample, in ms with two decimals. */
export function summarize(sample: number[]): { median: string; p99: string } {
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
export function heard(instance: Instance, what: string, match: (message: Invalidation) => boolean, from = 0): Promise<number> {
  return waitUntil(() => instance.channel.received.slice(from).some(match), `${what} reached the other instance`, 1_000);
}

export function aboutKey(key: string): (message: Invalidation) => boolean {
  return (message) => message.type === "key" && message.key === key;
}

/**
 * The real shared store behind a CachedStore, counting the reads that reach it. `afterRead` (when set) runs between the
 * shared store's answer and the cache seeing it, to hold a read in flight. Closing it also releases `release`.
 */
export class InstrumentedStore implements SessionStore {
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
export class ObservedChannel implements InvalidationChannel {
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
export interface Instance {
  store: CachedStore;
  shared: InstrumentedStore;
  channel: ObservedChannel;
  /** Kill this instance's channel connection from the server side; it reconnects by itself after RECOVERY_MS. */
  cutChannel(): Promise<void>;
}

export interface OpenOptions {
  now?: () => number;
  ttl?: number;
  /** Default true: the instance owns its shared-store connections and closes them with the CachedStore. */
  closeStore?: boolean;
}

/** How one backend opens instances on a namespace (a key prefix or a table) of its shared data. */
export interface Backend {
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

function redisBackend({ Redis }: RedisClient, admin: () => Redis): Backend {
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
      const applicationName = `cloakroom_test_${run}_${instanceCounter}`;
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

/**
 * The Redis side of every CachedStore test file: `describe("CachedStore over Redis (ioredis N)")` once per ioredis
 * major (skipped when Redis is down) with the admin connection the backend uses to cut channels, and a scan that
 * removes what a failed test left behind. `body` gets the major's client classes for what it opens itself.
 */
export function describeOverRedis(body: (backend: Backend, client: RedisClient) => void): void {
  describe.skipIf(!redisUp).each(redisClients)("CachedStore over Redis (ioredis $major)", (client) => {
    const { Redis } = client;
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
    body(redisBackend(client, () => admin), client);
  });
}

/**
 * The PostgreSQL side: `describe("CachedStore over PostgreSQL")` (skipped when PostgreSQL is down) on a schema of
 * this run's, dropped afterwards; every namespace is a table of that schema and a NOTIFY channel of its own.
 */
export function describeOverPostgres(body: (backend: Backend, schema: string) => void): void {
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
    body(postgresBackend(schema, () => admin), schema);
  });
}
