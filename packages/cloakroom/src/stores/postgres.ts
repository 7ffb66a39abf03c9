/**
 * PostgresStore: sessions in one PostgreSQL table, shared by any number of processes.
 *
 * Every write is one statement, so atomicity comes from PostgreSQL's row locks rather than from transactions held
 * open across round trips: a patch merges top-level keys with `(data - $unset) || $set` under the row lock, and its
 * `WHERE key_hash = $1 AND expires_at > $now` matches nothing once the row is gone, so a late patch never
 * resurrects a destroyed session. Expiry is compared with the store's injected clock (a query parameter, never SQL
 * `now()`), so expired rows are invisible before any sweep, and tests can move time.
 */
import pg from "pg";
import { expiresAtOf } from "../core/types.js";
import type {
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";
import { splitDataPatch } from "./data-patch.js";
import { decodeString, encodeJson, encodeString, keyDigest } from "./postgres-codec.js";
import { PinnedLane } from "./postgres-lane.js";
import { resolveOptions, type PostgresStoreOptions, type SweepReport } from "./postgres-options.js";
import type { ResolvedTable } from "./postgres-schema.js";
import { migrate } from "./postgres-schema.js";
import { buildStatements, rowToRecord, type SessionRow, type Statement, type Statements } from "./postgres-sql.js";
import { storeError } from "./store-error.js";
import { startSweepTimer, type SweepTimer } from "./sweep-timer.js";

export { migrate, SCHEMA_VERSION } from "./postgres-schema.js";
export type { MigrationResult, TableLocation } from "./postgres-schema.js";
export type { PostgresStoreOptions, SweepReport } from "./postgres-options.js";

const STORE = "PostgresStore";

/**
 * A {@link SessionStore} on PostgreSQL (`pg` ≥ 8, PostgreSQL ≥ 12) for deployments with several instances.
 *
 * The table (default `public.cloakroom_sessions`) is created on first use; see {@link migrate}. Keys and every
 * string in `data`, `meta` and `userId` may contain any character, U+0000 and unpaired surrogates included (they are
 * stored in a reversible escaped form); keys of any length are indexed through their SHA-256. Expired rows are
 * invisible at once and deleted in batches by the sweep, which one instance at a time runs under an advisory lock.
 * Database failures reject with `Error("PostgresStore.<operation> failed: …", { cause })`, and time out instead of hanging.
 *
 * @example
 * import { PostgresStore } from "cloakroom/postgres";
 * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL });
 * // …hand it to the session manager…
 * await store.close(); // on shutdown
 */
export class PostgresStore implements SessionStore {
  /** Indexed by user, counted, no native TTL (expired rows wait for {@link PostgresStore.sweep}). */
  readonly capabilities: StoreCapabilities = { listByUser: true, nativeTtl: false, count: true };

  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  /** Statements go through a pinned client when it is free (postgres-lane.ts); only on the store's own pool. */
  private readonly lane: PinnedLane | undefined;
  private readonly table: ResolvedTable;
  private readonly sql: Statements;
  private readonly now: () => number;
  private readonly createTable: boolean;
  private readonly sweepBatchSize: number;
  private readonly onSweep: ((report: SweepReport) => void) | undefined;
  private readonly timer: SweepTimer;
  private ready: Promise<void> | undefined;
  /** Set once the table is known to be current, so a query skips the promise hop through {@link ensureTable}. */
  private tableReady: boolean;
  private closing: Promise<void> | undefined;

  /**
   * @param options `pool` or `connectionString`, plus table, timeout and sweep settings
   * @throws {TypeError} naming the option when an option is invalid (nothing is connected then)
   */
  constructor(options: PostgresStoreOptions) {
    const resolved = resolveOptions(options);
    this.table = resolved.table;
    this.sql = buildStatements(resolved.table);
    this.now = resolved.now;
    this.createTable = resolved.createTable;
    this.tableReady = !resolved.createTable;
    this.sweepBatchSize = resolved.sweepBatchSize;
    this.onSweep = resolved.onSweep;
    if (resolved.pool) {
      this.pool = resolved.pool;
      this.ownsPool = false;
      // A caller's pool may be shared with other code, or have a single connection: pinning one could starve them.
      this.lane = undefined;
    } else {
      this.pool = new pg.Pool(resolved.poolConfig);
      this.ownsPool = true;
      // An idle connection that dies (server restart, network) is already dropped by the pool; without a listener
      // its 'error' event would crash the process. The next query opens a fresh connection.
      this.pool.on("error", () => {});
      // With one connection, a pinned client would leave none for the sweep's advisory-lock session.
      this.lane = (resolved.poolConfig?.max ?? 0) >= 2 ? new PinnedLane(this.pool) : undefined;
    }
    this.timer = startSweepTimer(STORE, resolved.sweepInterval, () => this.sweep());
  }

  /** @inheritDoc */
  async get(key: string): Promise<SessionRecord | null> {
    const { rows } = await this.query<SessionRow>("get", this.sql.get, [keyDigest(key), this.now()]);
    return rows[0] ? rowToRecord(rows[0]) : null;
  }

  /** @inheritDoc */
  async create(key: string, record: SessionRecord): Promise<void> {
    await this.query("create", this.sql.create, [
      keyDigest(key),
      encodeString(key),
      record.userId === null ? null : encodeString(record.userId),
      encodeJson(record.data),
      record.createdAt,
      record.touchedAt,
      record.idleExpiresAt,
      record.absoluteExpiresAt,
      expiresAtOf(record),
      record.cookieMaxAge,
      record.version,
      encodeJson(record.meta),
    ]);
  }

  /** @inheritDoc */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const change = splitDataPatch(patch);
    const set = change.set;
    const unset = change.unset.map(encodeString);
    const changesData = unset.length > 0 || Object.keys(set).length > 0;
    const result = await this.query("patch", this.sql.patch, [
      keyDigest(key),
      unset,
      changesData ? encodeJson(set) : null,
      patch.idleExpiresAt ?? null,
      patch.touchedAt ?? null,
      patch.cookieMaxAge !== undefined,
      patch.cookieMaxAge ?? null,
      this.now(),
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  /** @inheritDoc */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    const result = await this.query("touch", this.sql.touch, [keyDigest(key), idleExpiresAt, touchedAt, this.now()]);
    return (result.rowCount ?? 0) > 0;
  }

  /** @inheritDoc */
  async destroy(key: string): Promise<void> {
    await this.query("destroy", this.sql.destroy, [keyDigest(key)]);
  }

  /** @inheritDoc */
  async listByUser(userId: string): Promise<StoredSession[]> {
    const { rows } = await this.query<SessionRow & { key: string }>("listByUser", this.sql.listByUser, [encodeString(userId), this.now()]);
    return rows.map((row) => ({ key: decodeString(row.key), record: rowToRecord(row) }));
  }

  /**
   * Delete every session of one user (expired ones included), except the key in `options.except`.
   * @returns how many live sessions were deleted
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    const except = options.except === undefined ? null : keyDigest(options.except);
    const { rows } = await this.query<{ n: number }>("destroyByUser", this.sql.destroyByUser, [
      encodeString(userId),
      except,
      this.now(),
    ]);
    return rows[0]?.n ?? 0;
  }

  /** Delete every session in this store's table (TRUNCATE: instant, briefly locks the table). */
  async clear(): Promise<void> {
    await this.query("clear", this.sql.clear, []);
  }

  /** @inheritDoc */
  async count(): Promise<number> {
    const { rows } = await this.query<{ n: number }>("count", this.sql.count, [this.now()]);
    return rows[0]?.n ?? 0;
  }

  /**
   * Delete expired rows, `sweepBatchSize` per statement, until a batch comes back short. Only one instance per table
   * sweeps at a time (a session advisory lock on a dedicated connection); the others resolve 0 at once.
   * @returns how many rows were deleted
   * @throws {Error} with `cause` when the database fails (the lock dies with the connection, which is discarded)
   */
  async sweep(): Promise<number> {
    const started = performance.now();
    await this.ensureTable();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (cause) {
      throw storeError(STORE, "sweep", cause);
    }
    // One cutoff for the whole sweep, so rows that expire meanwhile cannot keep it looping.
    const cutoff = this.now();
    const report: SweepReport = { removed: 0, batches: 0, durationMs: 0, skipped: false };
    let failure: Error | undefined;
    try {
      const lock = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [
        this.table.sweepLockId,
      ]);
      report.skipped = lock.rows[0]?.locked !== true;
      if (!report.skipped) {
        try {
          let deleted: number;
          do {
            const result = await client.query({ ...this.sql.sweepBatch, values: [cutoff, this.sweepBatchSize] });
            deleted = result.rowCount ?? 0;
            report.batches += 1;
            report.removed += deleted;
          } while (deleted >= this.sweepBatchSize);
        } finally {
          await client.query("SELECT pg_advisory_unlock($1::bigint)", [this.table.sweepLockId]);
        }
      }
    } catch (cause) {
      failure = storeError(STORE, "sweep", cause);
      throw failure;
    } finally {
      // Passing the error destroys the connection, which also frees a lock whose unlock may not have run.
      client.release(failure);
    }
    report.durationMs = performance.now() - started;
    this.onSweep?.(report);
    return report.removed;
  }

  /** Stop the sweep timer, wait for a running background sweep, and end the pool if the store opened it. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    await this.timer.stop();
    await this.lane?.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** Create or migrate the table once; a failure is not cached, so the next call retries. */
  private ensureTable(): Promise<void> {
    if (!this.createTable) return Promise.resolve();
    this.ready ??= migrate(this.pool, this.table).then(
      () => {
        this.tableReady = true;
      },
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  private async query<R extends pg.QueryResultRow>(
    operation: string,
    statement: Statement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (!this.tableReady) await this.ensureTable();
    try {
      const config = { name: statement.name, text: statement.text, values };
      return await (this.lane ? this.lane.query<R>(config) : this.pool.query<R>(config));
    } catch (cause) {
      throw storeError(STORE, operation, cause);
    }
  }
}
