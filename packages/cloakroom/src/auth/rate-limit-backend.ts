/**
 * Where rate-limit counters live: one rate-limiter-flexible limiter per backend, behind one small factory, so the
 * login throttle and the generic rate limit share it.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { Cluster, Redis } from "ioredis";
import type { Pool } from "pg";
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterSQLite,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";

/**
 * The store that holds the counters — normally the one that holds the sessions, so every server instance sees the
 * same counts. `memory` counts per process: with N instances behind a balancer the effective limit is N times higher.
 *
 * `memcached` is accepted but counts in process memory, with one process warning (code
 * `CLOAKROOM_RATE_LIMIT_FALLBACK`), for three reasons: rate-limiter-flexible's RateLimiterMemcache speaks the
 * `memcached` package's callback API, not that of `memcache-client` (the driver Cloakroom's session store uses);
 * its `reward()` sends `incr` with a negative delta, which memcached refuses ("CLIENT_ERROR invalid numeric delta
 * argument"), so the refund the login throttle gives a successful login would fail; and it keeps each key's expiry in a
 * second key, updated non-atomically. With memcached sessions, put the limits on Redis, PostgreSQL or SQLite, or
 * accept per-process limits.
 */
export type RateLimitBackend =
  | { type: "memory" }
  | { type: "redis"; client: Redis | Cluster }
  | { type: "postgres"; pool: Pool; tableName?: string; schemaName?: string }
  | { type: "sqlite"; database: BetterSqlite3.Database; tableName?: string }
  | { type: "memcached"; client: object };

/** The backend a limiter actually uses (differs from the requested one only after a documented fallback). */
export type RateLimitBackendType = RateLimitBackend["type"];

/** How many events a key may have per window. */
export interface LimitOptions {
  /** Events allowed per window. */
  points: number;
  /** Window length in seconds, counted from the first event. */
  duration: number;
  /** Once over the limit, refuse for this many seconds instead of until the window ends. @default 0 (window end) */
  blockDuration?: number;
}

/** A limiter ready for use once `ready` settles (SQL backends create their table first). */
export interface LimiterHandle {
  limiter: RateLimiterAbstract;
  ready: Promise<void>;
  backend: RateLimitBackendType;
}

const DEFAULT_TABLE = "cloakroom_rate_limits";
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Build one limiter. Validates everything up front so configuration mistakes surface at start-up as TypeErrors.
 * @internal
 */
export function createLimiter(backend: RateLimitBackend, limit: LimitOptions, keyPrefix: string): LimiterHandle {
  const base = { points: limit.points, duration: limit.duration, blockDuration: limit.blockDuration ?? 0, keyPrefix };
  switch (backend?.type) {
    case "memory":
      return { limiter: new RateLimiterMemory(base), ready: Promise.resolve(), backend: "memory" };
    case "redis":
      requireMethods(backend.client, ["defineCommand", "multi"], "backend.client (an ioredis Redis or Cluster)");
      return {
        limiter: new RateLimiterRedis({ ...base, storeClient: backend.client }),
        ready: Promise.resolve(),
        backend: "redis",
      };
    case "postgres": {
      requireMethods(backend.pool, ["query"], "backend.pool (a pg.Pool)");
      const tableName = checkIdentifier(backend.tableName ?? DEFAULT_TABLE, "backend.tableName");
      const schemaName = backend.schemaName && checkIdentifier(backend.schemaName, "backend.schemaName");
      let limiter: RateLimiterPostgres | undefined;
      return withReadiness("postgres", (done) => {
        limiter = new RateLimiterPostgres(
          { ...base, storeClient: backend.pool, storeType: "pool", tableName, ...(schemaName ? { schemaName } : {}) },
          (error?: Error) => {
            // Two limiters (or two instances) creating the table at once: PostgreSQL's CREATE TABLE IF NOT EXISTS is
            // not race-free and one of them fails with duplicate_object / unique_violation. The table exists then.
            const code = (error as { code?: string } | undefined)?.code;
            if (error && (code === "42710" || code === "23505" || code === "42P07")) {
              if (limiter) (limiter as unknown as { tableCreated: boolean }).tableCreated = true;
              done();
              return;
            }
            done(error);
          },
        );
        return limiter;
      });
    }
    case "sqlite": {
      requireMethods(backend.database, ["prepare", "transaction"], "backend.database (a better-sqlite3 Database)");
      const tableName = checkIdentifier(backend.tableName ?? DEFAULT_TABLE, "backend.tableName");
      return withReadiness("sqlite", (done) =>
        new RateLimiterSQLite(
          // better-sqlite3 has no TTL: sweep rows expired over an hour ago every 5 minutes (timer is unref'd).
          { ...base, storeClient: backend.database, storeType: "better-sqlite3", tableName, clearExpiredByTimeout: true },
          done,
        ),
      );
    }
    case "memcached":
      warnFallbackOnce();
      return { limiter: new RateLimiterMemory(base), ready: Promise.resolve(), backend: "memory" };
    default:
      throw new TypeError('backend option must be { type: "memory" | "redis" | "postgres" | "sqlite" | "memcached", … }');
  }
}

/**
 * Validate one `{ points, duration, blockDuration }` option.
 * @internal
 */
export function checkLimit(limit: LimitOptions, name: string): LimitOptions {
  if (limit === null || typeof limit !== "object") throw new TypeError(`${name} option must be an object`);
  for (const field of ["points", "duration"] as const) {
    if (!Number.isSafeInteger(limit[field]) || limit[field] < 1) {
      throw new TypeError(`${name}.${field} option must be a positive integer${field === "duration" ? " (seconds)" : ""}`);
    }
  }
  const block = limit.blockDuration ?? 0;
  if (!Number.isSafeInteger(block) || block < 0) {
    throw new TypeError(`${name}.blockDuration option must be a non-negative integer (seconds)`);
  }
  return { points: limit.points, duration: limit.duration, blockDuration: block };
}

// SQL limiters create their table asynchronously and report through the constructor's callback.
function withReadiness(
  backend: RateLimitBackendType,
  build: (done: (error?: Error) => void) => RateLimiterAbstract,
): LimiterHandle {
  let settle: (error?: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  // Nobody may be awaiting yet; the error resurfaces (with cause) on the first use.
  ready.catch(() => {});
  return { limiter: build((error) => settle(error)), ready, backend };
}

let warnedFallback = false;

function warnFallbackOnce(): void {
  if (warnedFallback) return;
  warnedFallback = true;
  process.emitWarning(
    "rate limits on a memcached backend fall back to process memory, so they count per process " +
      "(rate-limiter-flexible cannot decrement a memcached counter; see RateLimitBackend in cloakroom/auth)",
    { code: "CLOAKROOM_RATE_LIMIT_FALLBACK" },
  );
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function")
  );
}

function requireMethods(value: unknown, methods: string[], what: string): void {
  if (!hasMethods(value, methods)) throw new TypeError(`${what} option is missing or is not the expected client`);
}

function checkIdentifier(value: string, name: string): string {
  if (typeof value !== "string" || !SQL_IDENTIFIER.test(value)) {
    throw new TypeError(`${name} option must be a SQL identifier (letters, digits, underscore; up to 63 characters)`);
  }
  return value;
}
