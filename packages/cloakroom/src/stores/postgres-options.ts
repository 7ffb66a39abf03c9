/**
 * PostgresStore's options: their types, defaults, and the checks that turn a bad configuration into a TypeError
 * naming the option, at construction rather than on the first request.
 */
import type pg from "pg";
import type { BaseStoreOptions } from "../core/types.js";
import { resolveTable, type ResolvedTable, type TableLocation } from "./postgres-schema.js";

/** What one call of {@link PostgresStoreOptions.onSweep} reports. */
export interface SweepReport {
  /** Expired rows deleted. */
  removed: number;
  /** DELETE statements run (each removes at most `sweepBatchSize` rows). */
  batches: number;
  /** Wall time of the sweep, lock and connection included (ms). */
  durationMs: number;
  /** True when another instance held the sweep lock, so this one did nothing. */
  skipped: boolean;
}

/** Options of {@link PostgresStore}. Pass `pool` or `connectionString`, not both. */
export interface PostgresStoreOptions extends BaseStoreOptions, TableLocation {
  /**
   * A pool you own: the store uses it but never ends it, and the connection options below do not apply to it (set
   * `statement_timeout`, `query_timeout` and `connectionTimeoutMillis` on it yourself so a lost server cannot hang a
   * request). It must be a direct connection or session-mode pooler: the sweep holds a session advisory lock, and
   * every operation is a named prepared statement, parsed once per connection.
   */
  pool?: pg.Pool;
  /** A `postgres://` URL; the store opens its own pool and ends it in `close()`. */
  connectionString?: string;
  /**
   * Connections in the store's own pool. From 2 up, one of them stays checked out, and a statement that finds it free
   * runs on it, sparing pg-pool's checkout and release (postgres-lane.ts); the others serve concurrent statements.
   * @default 10
   */
  poolSize?: number;
  /**
   * Server-side `statement_timeout` of the store's connections (ms); a client-side timeout 1 s later catches a
   * server that stopped answering.
   * @default 5000
   */
  statementTimeout?: number;
  /**
   * How long to wait for a connection — a new one, or a free one from a busy pool — before rejecting (ms).
   * @default 5000
   */
  connectionTimeout?: number;
  /**
   * How often this instance sweeps expired rows (ms); `0` disables the timer (sweep from a cron job instead).
   * Instances sharing a table take turns through an advisory lock, so running the timer everywhere is fine.
   * @default 300_000
   */
  sweepInterval?: number;
  /**
   * Rows deleted per statement while sweeping, so a large backlog never holds locks or a snapshot for long.
   * @default 1000
   */
  sweepBatchSize?: number;
  /**
   * Create or migrate the table on first use. Set `false` when the application's role may not run DDL, and call
   * {@link migrate} from a deploy step.
   * @default true
   */
  createTable?: boolean;
  /** Called after every sweep, skipped ones included (for metrics). Must not throw. */
  onSweep?: (report: SweepReport) => void;
}

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  table: ResolvedTable;
  pool: pg.Pool | undefined;
  poolConfig: pg.PoolConfig | undefined;
  sweepInterval: number;
  sweepBatchSize: number;
  createTable: boolean;
  now: () => number;
  onSweep: ((report: SweepReport) => void) | undefined;
}

// setInterval treats anything above 2^31 - 1 ms as 1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1;

function fail(option: string, requirement: string, value: unknown): never {
  const shown = typeof value === "function" ? "a function" : typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new TypeError(`PostgresStore: options.${option} must be ${requirement}, got ${shown}`);
}

function integerOption(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function isPool(value: unknown): value is pg.Pool {
  const candidate = value as { query?: unknown; connect?: unknown } | null;
  return typeof candidate === "object" && candidate !== null &&
    typeof candidate.query === "function" && typeof candidate.connect === "function";
}

function resolveConnection(options: PostgresStoreOptions): Pick<ResolvedOptions, "pool" | "poolConfig"> {
  const { pool, connectionString } = options;
  if (pool !== undefined) {
    if (!isPool(pool)) fail("pool", "a pg.Pool", pool);
    for (const option of ["connectionString", "poolSize", "statementTimeout", "connectionTimeout"] as const) {
      if (options[option] !== undefined) fail(option, "left out when options.pool is given (configure your pool)", options[option]);
    }
    return { pool, poolConfig: undefined };
  }
  if (typeof connectionString !== "string" || connectionString === "") {
    fail("connectionString", "a postgres:// URL (or pass options.pool)", connectionString);
  }
  const statementTimeout = integerOption("statementTimeout", options.statementTimeout, 5000, 1, MAX_TIMER_MS);
  return {
    pool: undefined,
    poolConfig: {
      connectionString,
      max: integerOption("poolSize", options.poolSize, 10, 1, 1000),
      connectionTimeoutMillis: integerOption("connectionTimeout", options.connectionTimeout, 5000, 1, MAX_TIMER_MS),
      statement_timeout: statementTimeout,
      // statement_timeout is enforced by the server; this client-side bound also covers a server that vanished.
      query_timeout: statementTimeout + 1000,
      keepAlive: true,
      // The pool must not keep a finished process alive; the sweep timer is unref'd for the same reason.
      allowExitOnIdle: true,
      application_name: "cloakroom",
    },
  };
}

/**
 * Validate options and apply defaults.
 * @throws {TypeError} naming the first bad option
 */
export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("PostgresStore: options must be an object with `pool` or `connectionString`");
  }
  const { now = Date.now, createTable = true, onSweep } = options;
  if (typeof now !== "function") fail("now", "a function returning epoch milliseconds", now);
  if (typeof createTable !== "boolean") fail("createTable", "a boolean", createTable);
  if (onSweep !== undefined && typeof onSweep !== "function") fail("onSweep", "a function", onSweep);
  return {
    ...resolveConnection(options),
    table: resolveTable(options),
    sweepInterval: integerOption("sweepInterval", options.sweepInterval, 300_000, 0, MAX_TIMER_MS),
    sweepBatchSize: integerOption("sweepBatchSize", options.sweepBatchSize, 1000, 1, 1_000_000),
    createTable,
    now,
    onSweep,
  };
}
