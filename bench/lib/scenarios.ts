/**
 * The setups compared side by side. Each builds the session middleware a user would pick, from the built packages
 * (`cloakroom/*` resolves to packages/cloakroom/dist), with the same express-session options everywhere and
 * cloakroom's defaults.
 */
import type { RequestHandler } from "express";
import { RUN_TAG } from "./tag.js";

export const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
/**
 * How long a bench server keeps an idle keep-alive connection (Node's default is 5 s). Under valgrind, zeroing or
 * dumping callgrind's counters can stall the server for over a minute on a loaded machine; with 60 s a connection
 * closed inside one bench:steady window and its reconnect put 26–60k per request into the count (helper-27, session 11: most likely so).
 */
export const KEEP_ALIVE_MS = 600_000;
export const REDIS_URL = "redis://127.0.0.1:6379";
export const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
export const MEMCACHED_SERVERS = "127.0.0.1:11211";
/**
 * Every key the bench writes carries this prefix, so it never touches anyone else's data, nor another bench run's
 * (the run's tag: lib/tag.ts). The `:` after the tag keeps run `12-ab` from clearing run `12-abc`'s keys.
 */
export const PREFIX = `cloakroom-bench-${RUN_TAG}:`;
/** The PostgreSQL table, one per run for the same reason (dropped when the store is released). */
export const TABLE = `cloakroom_bench_sessions_${RUN_TAG.replace(/\W/g, "_").toLowerCase()}`;

/** What the server needs: how sessions are read and written, and how to clean up. */
export interface SessionSetup {
  /** "session": req.session is used; "jwt": the app reads and writes a signed cookie itself; "none": no auth state. */
  kind: "none" | "session" | "jwt";
  middleware?: RequestHandler;
  /** The store object, for counting calls (instrumented runs only). */
  store?: object;
  close(): Promise<void>;
}

export interface Scenario {
  id: string;
  label: string;
  /** "peer": what a user would pick instead; "ours": cloakroom. */
  side: "baseline" | "peer" | "ours";
  /** The express-session setup this one replaces, for the second ratio column. */
  matches?: string;
  /** The servers it needs, checked before starting it. */
  needs: ("redis" | "postgres" | "memcached")[];
  /** Answers without checking a login (the baselines): no cookie is logged in, and no 401 is expected without one. */
  authless?: boolean;
}

export const SCENARIOS: Scenario[] = [
  { id: "bare", label: "Express, no session (baseline)", side: "baseline", needs: [], authless: true },
  // express-session's API and nothing else (no cookie, no store), bound in two ways: see ownPropertiesFloor / prototypeFloor.
  { id: "floor-own", label: "Express + express-session's API as own properties (no cookie, no store)", side: "baseline", needs: [], authless: true },
  { id: "floor-proto", label: "Express + express-session's API as prototype accessors (no cookie, no store)", side: "baseline", needs: [], authless: true },
  { id: "es-memory", label: "express-session + MemoryStore", side: "peer", needs: [] },
  { id: "es-redis", label: "express-session + connect-redis", side: "peer", needs: ["redis"] },
  { id: "jwt", label: "Express + jose JWT cookie (HS256)", side: "peer", needs: [] },
  { id: "cr-memory", label: "cloakroom + MemoryStore", side: "ours", matches: "es-memory", needs: [] },
  { id: "cr-sqlite", label: "cloakroom + SqliteStore (file, WAL)", side: "ours", matches: "es-memory", needs: [] },
  { id: "cr-redis", label: "cloakroom + RedisStore", side: "ours", matches: "es-redis", needs: ["redis"] },
  // The same store over node-redis (connect-redis's client): what the client library costs on the read path.
  { id: "cr-redis-node", label: "cloakroom + RedisStore over node-redis", side: "ours", matches: "es-redis", needs: ["redis"] },
  { id: "cr-redis-cached", label: "cloakroom + Redis + local cache", side: "ours", matches: "es-redis", needs: ["redis"] },
  { id: "cr-postgres", label: "cloakroom + PostgresStore", side: "ours", matches: "es-redis", needs: ["postgres"] },
  { id: "cr-memcached", label: "cloakroom + MemcachedStore", side: "ours", matches: "es-redis", needs: ["memcached"] },
  // Other frameworks (issue 12), served by lib/framework-servers.ts; "matches" is the row the target compares with.
  { id: "fastify", label: "Fastify 5, no session", side: "baseline", needs: [], authless: true },
  { id: "fastify-floor", label: "Fastify + a session plugin's binding only (decorated request, onRequest and onSend hooks)", side: "baseline", needs: [], authless: true },
  { id: "fastify-session", label: "@fastify/session + @fastify/cookie + its MemoryStore", side: "peer", needs: [] },
  { id: "cr-fastify", label: "cloakroom/fastify + MemoryStore", side: "ours", matches: "fastify-session", needs: [] },
  { id: "hono", label: "Hono 4 on @hono/node-server, no session", side: "baseline", needs: [], authless: true },
  { id: "hono-floor", label: "Hono + a session middleware's binding only (a context variable)", side: "baseline", needs: [], authless: true },
  { id: "cr-hono", label: "cloakroom/hono + MemoryStore", side: "ours", matches: "hono", needs: [] },
];

/** Thrown when a setup cannot run here (missing server, store not built yet); the scenario is listed as skipped. */
export class SkipScenario extends Error {}

async function importOrSkip<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new SkipScenario(`${specifier} does not import (${firstLine(error)})`);
  }
}

export function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!.slice(0, 160);
}

const ES_OPTIONS = { secret: SECRET, resave: false, saveUninitialized: false };

/** Build one scenario's middleware, after emptying the bench's own keys or table. */
export async function buildSetup(id: string): Promise<SessionSetup> {
  switch (id) {
    case "bare":
      return { kind: "none", close: async () => {} };
    case "floor-own":
      return { kind: "session", middleware: ownPropertiesFloor, close: async () => {} };
    case "floor-proto":
      return { kind: "session", middleware: prototypeFloor, close: async () => {} };
    case "jwt":
      return { kind: "jwt", close: async () => {} };
    case "es-memory": {
      const { default: session } = await import("express-session");
      const store = new session.MemoryStore();
      return { kind: "session", middleware: session({ ...ES_OPTIONS, store }), store, close: async () => {} };
    }
    case "es-redis": {
      const { default: session } = await import("express-session");
      const { RedisStore } = await import("connect-redis");
      const { createClient } = await import("redis");
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      const prefix = `${PREFIX}es:`;
      await deleteRedisPrefix(client, prefix);
      const store = new RedisStore({ client, prefix });
      return {
        kind: "session",
        middleware: session({ ...ES_OPTIONS, store }) as RequestHandler,
        store,
        close: async () => {
          await deleteRedisPrefix(client, prefix);
          await client.quit();
        },
      };
    }
    default:
      return buildCloakroomSetup(id);
  }
}

/**
 * express-session's API and nothing else, the way express-session binds it: put `req.session`, `req.sessionID` and
 * `req.sessionStore` on the request, and wrap `res.writeHead` (to set the cookie as headers go out) and `res.end` (to
 * save before the response is finished). On Express, whose setPrototypeOf on every request leaves req and res off
 * V8's shared hidden-class transitions, each of those five properties costs a fresh hidden class.
 */
const floorStore = {};
const floorSession = { userId: "floor" };
const ownPropertiesFloor: RequestHandler = (req, res, next) => {
  const target = req as unknown as Record<string, unknown>;
  target.session = floorSession;
  target.sessionID = "floor";
  target.sessionStore = floorStore;
  const writeHead = res.writeHead;
  const end = res.end;
  res.writeHead = function (this: typeof res) {
    // eslint-disable-next-line prefer-rest-params -- a pass-through, as the real middlewares do
    return writeHead.apply(this, arguments as unknown as Parameters<typeof writeHead>);
  } as typeof res.writeHead;
  res.end = function (this: typeof res) {
    // eslint-disable-next-line prefer-rest-params -- a pass-through, as the real middlewares do
    return end.apply(this, arguments as unknown as Parameters<typeof end>);
  } as typeof res.end;
  next();
};

/**
 * The same API without adding a property to req or res: accessors defined once on Express's shared request
 * prototype and writeHead/end interceptors on its response prototype, the per-request state in a slot on the
 * request's socket (what cloakroom/express does; a WeakMap keyed by req measured 21k instructions more per request,
 * most of it in the collector). The difference between the two floors is what the binding costs.
 */
const FLOOR_SLOT = Symbol("floor");
type FloorSlot = { req: object | null; res: object | null; next: unknown; session: unknown; sessionID: string };
type SlotSocket = { [FLOOR_SLOT]?: FloorSlot };
let floorInstalled = false;
function installFloorPrototypes(req: object, res: object): void {
  floorInstalled = true;
  const requestProto = Object.getPrototypeOf(Object.getPrototypeOf(req) as object) as object;
  for (const name of ["session", "sessionID", "sessionStore"] as const) {
    Object.defineProperty(requestProto, name, {
      configurable: true,
      get(this: { socket: SlotSocket }) {
        const slot = this.socket[FLOOR_SLOT];
        if (name === "sessionStore") return floorStore;
        return slot !== undefined && slot.req === this ? slot[name] : undefined;
      },
    });
  }
  const responseProto = Object.getPrototypeOf(Object.getPrototypeOf(res) as object) as Record<string, unknown>;
  const writeHead = responseProto.writeHead as (...a: unknown[]) => unknown;
  const end = responseProto.end as (...a: unknown[]) => unknown;
  const slotOf = (response: { req: { socket: SlotSocket } }): FloorSlot | undefined => {
    const slot = response.req.socket[FLOOR_SLOT];
    return slot !== undefined && slot.res === response ? slot : undefined;
  };
  responseProto.writeHead = function (this: { req: { socket: SlotSocket } }) {
    slotOf(this);
    // eslint-disable-next-line prefer-rest-params -- a pass-through, as the real middlewares do
    return writeHead.apply(this, arguments as unknown as unknown[]);
  };
  responseProto.end = function (this: { req: { socket: SlotSocket } }) {
    const slot = slotOf(this);
    if (slot !== undefined) slot.res = null;
    // eslint-disable-next-line prefer-rest-params -- a pass-through, as the real middlewares do
    return end.apply(this, arguments as unknown as unknown[]);
  };
}
const prototypeFloor: RequestHandler = (req, res, next) => {
  if (!floorInstalled) installFloorPrototypes(req, res);
  const socket = req.socket as unknown as SlotSocket;
  const slot = (socket[FLOOR_SLOT] ??= { req: null, res: null, next: null, session: null, sessionID: "" });
  slot.req = req;
  slot.res = res;
  slot.next = next;
  slot.session = floorSession;
  slot.sessionID = "floor";
  next();
};

type NodeRedis = { scanIterator(o: { MATCH: string; COUNT: number }): AsyncIterable<string[] | string>; del(keys: string[]): Promise<number> };

async function deleteRedisPrefix(client: unknown, prefix: string): Promise<void> {
  const redis = client as NodeRedis;
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    const keys = Array.isArray(batch) ? batch : [batch];
    if (keys.length > 0) await redis.del(keys);
  }
}

type CloakroomStore = { clear(): Promise<void>; close(): Promise<void> };

/**
 * `touchAfter` from BENCH_TOUCH_AFTER, else nothing (the default, 60 s). Under callgrind a request takes ~50× its
 * native wall time, so the default 60 s touch window closes every ~1,500 requests instead of every ~300,000 at native
 * speed, and each rare touch re-runs V8's optimizing compiler on the commit path: bench:steady therefore stretches
 * the window by the same factor, so that the counted requests are the read-only ones a running server serves.
 */
export function touchAfterOverride(): { touchAfter?: number } {
  const value = Number(process.env.BENCH_TOUCH_AFTER);
  return Number.isFinite(value) && value >= 0 && process.env.BENCH_TOUCH_AFTER !== undefined ? { touchAfter: value } : {};
}

/**
 * CachedStore's `ttl` from BENCH_CACHE_TTL, else nothing (the default, 5 s), for the same reason as
 * {@link touchAfterOverride}: under callgrind the bench's one hot session was refilled from Redis every ~200 requests
 * (at native speed, every ~30,000), and the refills (a Redis read in baseline code, the LRU's dispose) cost ~12k
 * instructions per counted request. The refill path is what the cr-redis row measures.
 */
export function cacheTtlOverride(): { ttl?: number } {
  const value = Number(process.env.BENCH_CACHE_TTL);
  return Number.isFinite(value) && value > 0 ? { ttl: value } : {};
}

/**
 * The in-process stores' `sweepInterval` from BENCH_SWEEP_INTERVAL, else nothing (MemoryStore 60 s, SqliteStore
 * 5 min), for the same reason as {@link touchAfterOverride}: under callgrind MemoryStore's sweep of the mixed
 * workload's 10,000 sessions ran every ~1,000 counted requests (at native speed, every ~300,000), and each run sent
 * its loop and the Node internals around its yields back through the optimizing compiler (bench/README.md, session 14).
 */
export function sweepIntervalOverride(): { sweepInterval?: number } {
  const value = Number(process.env.BENCH_SWEEP_INTERVAL);
  return Number.isFinite(value) && value > 0 ? { sweepInterval: value } : {};
}

async function buildCloakroomSetup(id: string): Promise<SessionSetup> {
  const { default: session } = await importOrSkip<{ default: (o: object) => RequestHandler }>("cloakroom/express");
  const made = await makeCloakroomStore(id);
  await made.store.clear();
  return {
    kind: "session",
    // Defaults everywhere: only the secret and the store are given (fairness: what a user gets out of the box).
    // BENCH_TOUCH_AFTER (ms) only for runs under valgrind, whose wall clock is stretched ~50×: bench:steady sets it.
    middleware: session({ secret: SECRET, store: made.store, ...touchAfterOverride() }),
    store: made.store,
    close: async () => {
      await made.store.clear().catch(() => {});
      await made.store.close();
      await made.release();
    },
  };
}

/** A cloakroom store for a scenario id, with what to release afterwards (clients the bench opened). */
/** A store built for a measurement; `diskBytes` (SQLite, PostgreSQL) is what its sessions take on disk now. */
export interface MadeStore {
  store: CloakroomStore;
  release(): Promise<void>;
  diskBytes?: () => Promise<number>;
}

export async function makeCloakroomStore(id: string, extra: Record<string, unknown> = {}): Promise<MadeStore> {
  const none = async (): Promise<void> => {};
  switch (id) {
    case "cr-memory": {
      const { MemoryStore } = await importOrSkip<{ MemoryStore: new (o?: object) => CloakroomStore }>("cloakroom");
      return { store: new MemoryStore({ ...sweepIntervalOverride(), ...extra }), release: none };
    }
    case "cr-sqlite": {
      const { SqliteStore } = await importOrSkip<{ SqliteStore: new (o: object) => CloakroomStore }>("cloakroom/sqlite");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const { rm, stat } = await import("node:fs/promises");
      const path = join(tmpdir(), `cloakroom-bench-${process.pid}-${Date.now()}.db`);
      const sizeOf = async (file: string): Promise<number> => (await stat(file).catch(() => ({ size: 0 }))).size;
      return {
        store: new SqliteStore({ path, ...sweepIntervalOverride(), ...extra }),
        // The database file plus its write-ahead log (not yet checkpointed pages live there).
        diskBytes: async () => (await sizeOf(path)) + (await sizeOf(`${path}-wal`)),
        release: async () => {
          for (const suffix of ["", "-wal", "-shm"]) await rm(path + suffix, { force: true });
        },
      };
    }
    case "cr-redis":
    case "cr-redis-cached": {
      const { RedisStore } = await importOrSkip<{ RedisStore: new (o: object) => CloakroomStore }>("cloakroom/redis");
      const { Redis } = await import("ioredis");
      const client = new Redis(6379, "127.0.0.1", { maxRetriesPerRequest: 1 });
      const redisStore = new RedisStore({ client, prefix: `${PREFIX}${id}:`, ...extra });
      if (id === "cr-redis") return { store: redisStore, release: async () => void (await client.quit()) };
      const cached = await importOrSkip<Record<string, new (o: object) => unknown>>("cloakroom/cached");
      const CachedStore = cached.CachedStore;
      const Channel = cached.RedisInvalidationChannel;
      if (!CachedStore || !Channel) throw new SkipScenario("cloakroom/cached lacks CachedStore or RedisInvalidationChannel");
      const subscriber = new Redis(6379, "127.0.0.1", { maxRetriesPerRequest: 1 });
      let store: CloakroomStore;
      try {
        store = new CachedStore({ store: redisStore, invalidation: new Channel({ client, subscriber, channel: `${PREFIX}invalidation` }), ...cacheTtlOverride() }) as CloakroomStore;
      } catch (error) {
        throw new SkipScenario(`CachedStore could not be built (${firstLine(error)})`);
      }
      return {
        store,
        release: async () => {
          await client.quit();
          await subscriber.quit();
        },
      };
    }
    case "cr-redis-node": {
      const { RedisStore } = await importOrSkip<{ RedisStore: new (o: object) => CloakroomStore }>("cloakroom/redis");
      const { createClient } = await import("redis");
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      return { store: new RedisStore({ client, prefix: `${PREFIX}${id}:`, ...extra }), release: async () => void (await client.quit()) };
    }
    case "cr-postgres": {
      const { PostgresStore } = await importOrSkip<{ PostgresStore: new (o: object) => CloakroomStore }>("cloakroom/postgres");
      const query = async <R>(sql: string, values: unknown[] = []): Promise<R[]> => {
        const { default: pg } = await import("pg");
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        try {
          return (await client.query(sql, values)).rows as R[];
        } finally {
          await client.end();
        }
      };
      // Table, TOAST and indexes: what the sessions cost on disk.
      const diskBytes = async (): Promise<number> =>
        Number((await query<{ bytes: string }>("SELECT pg_total_relation_size($1::regclass) AS bytes", [TABLE]))[0]!.bytes);
      return {
        store: new PostgresStore({ connectionString: POSTGRES_URL, tableName: TABLE, ...extra }),
        // The table is this run's own (one per run tag): drop it, or every run would leave one behind.
        release: async () => void (await query(`DROP TABLE IF EXISTS "${TABLE}"`)),
        diskBytes,
      };
    }
    case "cr-memcached": {
      const { MemcachedStore } = await importOrSkip<{ MemcachedStore: new (o: object) => CloakroomStore }>("cloakroom/memcached");
      return { store: new MemcachedStore({ servers: MEMCACHED_SERVERS, prefix: PREFIX, ...extra }), release: none };
    }
    default:
      throw new Error(`unknown scenario ${id}`);
  }
}
