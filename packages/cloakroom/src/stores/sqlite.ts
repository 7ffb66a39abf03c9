/**
 * SqliteStore: sessions in one SQLite table through better-sqlite3 (`cloakroom/sqlite`; better-sqlite3 is an optional
 * peer dependency, installed only by those who import this entry).
 *
 * Good for one server, or several processes on one machine sharing the file. better-sqlite3 is synchronous: every
 * call blocks the event loop for its few microseconds, which for single-row statements on an indexed table is cheaper
 * than a network round trip. The one long operation, the sweep of expired rows, runs in batches with yields between.
 */
import type Database from "better-sqlite3";
import { applyDataPatch, splitDataPatch } from "./data-patch.js";
import { guardStoreSync } from "./store-error.js";
import { SweepPacer, nextBatchSize } from "./sweep-slice.js";
import { checkSweepInterval, startSweepTimer, type SweepTimer } from "./sweep-timer.js";
import { SCHEMA_VERSION, ensureSchema, openDatabase, prepareStatements, recordOfRow, type InsertParams, type Statements } from "./sqlite-schema.js";
import type {
  BaseStoreOptions,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "../core/types.js";

/** Options of {@link SqliteStore}. Pass `path` or `database`, not both. */
export interface SqliteStoreOptions extends BaseStoreOptions {
  /**
   * The database file, opened (and closed by `close()`) by the store, in WAL mode. `":memory:"` is private to this
   * store: two stores on it do not share sessions.
   * @default ":memory:"
   */
  path?: string;
  /** A caller-owned better-sqlite3 handle: used as configured (pragmas untouched) and not closed by `close()`. */
  database?: Database.Database;
  /**
   * The sessions table, created on first use. Letters, digits and `_`, not starting with a digit, at most 63 characters.
   * @default "cloakroom_sessions"
   */
  tableName?: string;
  /**
   * How often (ms) the store sweeps expired rows itself; `0` disables the timer (call `sweep()` yourself).
   * @default 300_000
   */
  sweepInterval?: number;
  /**
   * At most this many rows are deleted per statement during a sweep; the event loop runs between two batches. Within
   * that bound the batch is sized by time: halved after a statement that ran over ~5 ms, doubled after one under half
   * of it (a delete costs 5–60 µs per row, depending on the machine and on the index pages it touches).
   * @default 1000
   */
  sweepBatchSize?: number;
}

const DEFAULT_TABLE = "cloakroom_sessions";
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const DEFAULT_SWEEP_INTERVAL = 300_000;
const DEFAULT_SWEEP_BATCH = 1000;
/** The first statement of a sweep deletes at most this many rows; later ones are sized by the time they take. */
const FIRST_SWEEP_BATCH = 64;

/** A patch's data change with `set` serialized before the transaction (a caller's bad value is its own TypeError). */
interface SerializedChange {
  set: string;
  unset: string[];
}

function validateOptions(options: SqliteStoreOptions): void {
  const { path, database, tableName, sweepInterval, sweepBatchSize, now } = options;
  if (path !== undefined && database !== undefined) {
    throw new TypeError("SqliteStore: pass either the path option or the database option, not both");
  }
  if (path !== undefined && (typeof path !== "string" || path === "")) {
    throw new TypeError("SqliteStore: the path option must be a non-empty file path (or \":memory:\")");
  }
  if (database !== undefined && (typeof database?.prepare !== "function" || typeof database.transaction !== "function")) {
    throw new TypeError("SqliteStore: the database option must be a better-sqlite3 Database");
  }
  if (tableName !== undefined && (typeof tableName !== "string" || !TABLE_NAME.test(tableName))) {
    throw new TypeError(
      `SqliteStore: the tableName option must match ${String(TABLE_NAME)} (got ${JSON.stringify(tableName)})`,
    );
  }
  checkSweepInterval("SqliteStore", sweepInterval);
  if (sweepBatchSize !== undefined && !(Number.isSafeInteger(sweepBatchSize) && sweepBatchSize > 0)) {
    throw new TypeError(`SqliteStore: the sweepBatchSize option must be a positive integer (got ${String(sweepBatchSize)})`);
  }
  if (now !== undefined && typeof now !== "function") {
    throw new TypeError("SqliteStore: the now option must be a function returning epoch milliseconds");
  }
}

/**
 * A {@link SessionStore} on SQLite through better-sqlite3.
 *
 * Every read filters on `expires_at > now`, so an expired session is never returned, swept or not. `patch` is a
 * read-modify-write inside `BEGIN IMMEDIATE`: the write lock is taken before the read, so it is atomic across
 * connections and processes on the same file, and a patch of a row another connection deleted changes nothing.
 * Expired rows are deleted by a timer (unref'd), in batches of at most `sweepBatchSize` rows sized to run about 5 ms
 * each, with the event loop running between batches. Driver failures reject with `Error("SqliteStore.<operation> failed: <cause>", { cause })`.
 *
 * @example
 * import { SqliteStore } from "cloakroom/sqlite";
 * const store = new SqliteStore({ path: "./data/sessions.db" });
 * // ... hand it to the session manager; on shutdown:
 * await store.close();
 */
export class SqliteStore implements SessionStore {
  readonly capabilities: StoreCapabilities = Object.freeze({ listByUser: true, nativeTtl: false, count: true });

  readonly #db: Database.Database;
  readonly #ownsDatabase: boolean;
  readonly #statements: Statements;
  readonly #patchTransaction: Database.Transaction<(key: string, patch: SessionPatch, change: SerializedChange, now: number) => boolean>;
  readonly #now: () => number;
  readonly #sweepBatchSize: number;
  readonly #timer: SweepTimer;
  #closed = false;

  /**
   * Open (or adopt) the database, create the table on first use and prepare every statement.
   * @param options see {@link SqliteStoreOptions}
   * @throws {TypeError} when an option is invalid (the message names it)
   * @throws {Error} when the database cannot be opened or set up (driver error as `cause`), or when its table was
   *   created by a newer version of cloakroom
   */
  constructor(options: SqliteStoreOptions = {}) {
    validateOptions(options);
    const table = options.tableName ?? DEFAULT_TABLE;
    this.#now = options.now ?? Date.now;
    this.#sweepBatchSize = options.sweepBatchSize ?? DEFAULT_SWEEP_BATCH;
    this.#ownsDatabase = options.database === undefined;
    this.#db = options.database ?? openDatabase(options.path ?? ":memory:");

    let version: number;
    try {
      version = ensureSchema(this.#db, table);
      this.#statements = prepareStatements(this.#db, table);
    } catch (error) {
      if (this.#ownsDatabase) this.#db.close();
      throw new Error(`SqliteStore: could not set up table "${table}"`, { cause: error });
    }
    if (version !== SCHEMA_VERSION) {
      if (this.#ownsDatabase) this.#db.close();
      throw new Error(
        `SqliteStore: table "${table}" has schema version ${version}, but this version of cloakroom knows ${SCHEMA_VERSION}; upgrade cloakroom`,
      );
    }
    this.#patchTransaction = this.#db.transaction(this.#applyPatch.bind(this));

    this.#timer = startSweepTimer("SqliteStore", options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL, () => this.sweep());
  }

  /**
   * Read one session.
   * @returns the record, or `null` when missing or expired
   */
  async get(key: string): Promise<SessionRecord | null> {
    const row = this.#run("get", () => this.#statements.get.get(key, this.#now()));
    return row === undefined ? null : recordOfRow(row);
  }

  /**
   * Store `record` under `key`, replacing any row there.
   * @throws {TypeError} (as a rejection) when `record.data` is not JSON-serializable (a BigInt, a cycle)
   */
  async create(key: string, record: SessionRecord): Promise<void> {
    const params: InsertParams = {
      key,
      user_id: record.userId,
      data: JSON.stringify(record.data),
      created_at: record.createdAt,
      touched_at: record.touchedAt,
      idle_expires_at: record.idleExpiresAt,
      absolute_expires_at: record.absoluteExpiresAt,
      expires_at: Math.min(record.idleExpiresAt, record.absoluteExpiresAt),
      cookie_max_age: record.cookieMaxAge,
      version: record.version,
      meta: JSON.stringify(record.meta),
    };
    this.#run("create", () => this.#statements.insert.run(params));
  }

  /**
   * Apply a per-key change and increment `version`, in one `BEGIN IMMEDIATE` transaction.
   * @returns `true` if applied, `false` if the record is missing or expired (nothing is written then)
   * @throws {TypeError} (as a rejection) when a value in `patch.set` is not JSON-serializable
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    // Serialized before the transaction: a caller's bad value is a TypeError of its own, not a driver failure.
    const { set, unset } = splitDataPatch(patch);
    const change = { set: JSON.stringify(set), unset };
    return this.#run("patch", () => this.#patchTransaction.immediate(key, patch, change, this.#now()));
  }

  /**
   * Slide the idle window and increment `version` (one UPDATE).
   * @returns `true` if applied, `false` if the record is missing or expired
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    const params = { key, idle: idleExpiresAt, touched: touchedAt, now: this.#now() };
    return this.#run("touch", () => this.#statements.touch.run(params)).changes === 1;
  }

  /** Delete one session; a missing key is fine. */
  async destroy(key: string): Promise<void> {
    this.#run("destroy", () => this.#statements.destroy.run(key));
  }

  /** The live sessions of one user, newest `createdAt` first. */
  async listByUser(userId: string): Promise<StoredSession[]> {
    const rows = this.#run("listByUser", () => this.#statements.listByUser.all(userId, this.#now()));
    return rows.map((row) => ({ key: row.key, record: recordOfRow(row) }));
  }

  /**
   * Delete every session of one user except `options.except`.
   * @returns how many rows were deleted (expired ones not yet swept included)
   */
  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    const { except } = options;
    const result = this.#run("destroyByUser", () =>
      except === undefined
        ? this.#statements.destroyByUser.run(userId)
        : this.#statements.destroyByUserExcept.run(userId, except),
    );
    return result.changes;
  }

  /** Delete every row of this store's table. */
  async clear(): Promise<void> {
    this.#run("clear", () => this.#statements.clear.run());
  }

  /** How many live sessions there are (an index range count). */
  async count(): Promise<number> {
    return this.#run("count", () => this.#statements.count.get(this.#now())) ?? 0;
  }

  /**
   * Delete expired rows, at most `sweepBatchSize` per statement and as many as take about 5 ms (sweep-slice.ts),
   * letting the event loop run between batches. Stops early when the store is closed meanwhile.
   * @returns how many rows were deleted
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const pacer = new SweepPacer();
    // Start small: the first statement's cost is unknown, and a batch that overruns stalls every request meanwhile.
    let size = Math.min(FIRST_SWEEP_BATCH, this.#sweepBatchSize);
    let removed = 0;
    while (!this.#closed) {
      const started = performance.now();
      const { changes } = this.#run("sweep", () => this.#statements.sweepBatch.run(now, size));
      removed += changes;
      if (changes < size) break;
      size = nextBatchSize(size, performance.now() - started, this.#sweepBatchSize);
      await pacer.yield();
    }
    return removed;
  }

  /** Stop the sweep timer and close the database if the store opened it. Calling it again is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#timer.stop();
    if (this.#ownsDatabase) this.#run("close", () => this.#db.close());
  }

  /** The body of the patch transaction: `change` is the data change, serialized before it began. */
  #applyPatch(key: string, patch: SessionPatch, change: SerializedChange, now: number): boolean {
    const row = this.#statements.readForPatch.get(key, now);
    if (row === undefined) return false;
    const data = applyDataPatch(JSON.parse(row.data) as Record<string, unknown>, {
      set: JSON.parse(change.set) as Record<string, unknown>,
      unset: change.unset,
    });
    const idleExpiresAt = patch.idleExpiresAt ?? row.idle_expires_at;
    this.#statements.writePatch.run({
      key,
      data: JSON.stringify(data),
      idle_expires_at: idleExpiresAt,
      expires_at: Math.min(idleExpiresAt, row.absolute_expires_at),
      touched_at: patch.touchedAt ?? row.touched_at,
      cookie_max_age: patch.cookieMaxAge === undefined ? row.cookie_max_age : patch.cookieMaxAge,
    });
    return true;
  }

  /** Run a driver call, rethrowing its failure in the shared shape (`SqliteStore.<operation> failed: …`). */
  #run<T>(operation: string, call: () => T): T {
    return guardStoreSync("SqliteStore", operation, call);
  }
}
