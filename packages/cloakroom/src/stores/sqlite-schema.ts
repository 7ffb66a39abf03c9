/**
 * SqliteStore's table: the schema and its version record, the prepared statements, and the row ↔ record mapping.
 * Everything here runs once per store (at construction) except {@link recordOfRow}.
 */
import Database from "better-sqlite3";
import type { SessionRecord } from "../core/types.js";

/**
 * How long a write waits for another connection's write lock before failing with SQLITE_BUSY. better-sqlite3 waits
 * synchronously, so this is also the longest the event loop can stall on contention; write transactions here last
 * microseconds, so even heavy contention stays far below it.
 */
export const BUSY_TIMEOUT_MS = 5000;
/** The version of the table layout below; `cloakroom_meta` records it per table for later migrations. */
export const SCHEMA_VERSION = 1;

/** One row as the statements read it. Times are epoch ms; `data` and `meta` are JSON text. */
export interface SessionRow {
  user_id: string | null;
  data: string;
  created_at: number;
  touched_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  cookie_max_age: number | null;
  version: number;
  meta: string;
}

export type InsertParams = SessionRow & { key: string; expires_at: number };
export type PatchRow = Pick<SessionRow, "data" | "idle_expires_at" | "absolute_expires_at" | "touched_at" | "cookie_max_age">;
export type PatchParams = Pick<SessionRow, "data" | "idle_expires_at" | "touched_at" | "cookie_max_age"> & {
  key: string;
  expires_at: number;
};

export interface Statements {
  get: Database.Statement<[string, number], SessionRow>;
  insert: Database.Statement<[InsertParams]>;
  readForPatch: Database.Statement<[string, number], PatchRow>;
  writePatch: Database.Statement<[PatchParams]>;
  touch: Database.Statement<[{ key: string; idle: number; touched: number; now: number }]>;
  destroy: Database.Statement<[string]>;
  listByUser: Database.Statement<[string, number], SessionRow & { key: string }>;
  destroyByUser: Database.Statement<[string]>;
  destroyByUserExcept: Database.Statement<[string, string]>;
  clear: Database.Statement<[]>;
  count: Database.Statement<[number], number>;
  sweepBatch: Database.Statement<[number, number]>;
}

export const COLUMNS =
  "user_id, data, created_at, touched_at, idle_expires_at, absolute_expires_at, cookie_max_age, version, meta";

export function openDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`SqliteStore: could not open ${JSON.stringify(path)}`, { cause: error });
  }
  try {
    // WAL: readers never block the writer and a commit is one append to the -wal file. synchronous=NORMAL then syncs
    // the WAL only at checkpoints, not on each commit. That is durable against a process crash or SIGKILL: a commit
    // is in the OS page cache once the statement returns, and the next open replays the WAL. It is not durable
    // against power loss or a kernel crash, which can roll back the last commits: for sessions that means a few users
    // signed out, an acceptable price for not paying an fsync per request (FULL would).
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  } catch (error) {
    db.close();
    throw new Error(`SqliteStore: could not configure ${JSON.stringify(path)}`, { cause: error });
  }
  return db;
}

/**
 * Create `cloakroom_meta` and the sessions table when missing, and record the layout version. Runs in a write
 * transaction so two processes opening one new file at once do not both create it.
 * @returns the schema version the table had (or now has)
 */
export function ensureSchema(db: Database.Database, table: string): number {
  const setUp = db.transaction((): number => {
    db.exec(
      "CREATE TABLE IF NOT EXISTS cloakroom_meta (table_name TEXT PRIMARY KEY NOT NULL, schema_version INTEGER NOT NULL)",
    );
    const found = db
      .prepare<[string], number>("SELECT schema_version FROM cloakroom_meta WHERE table_name = ?")
      .pluck()
      .get(table);
    if (found !== undefined) return found;
    // A rowid table (not WITHOUT ROWID): keys may be 10 kB and data hundreds of kB, and the sweep deletes by rowid.
    // expires_at = min(idle_expires_at, absolute_expires_at) is what every read filters on and the sweep scans.
    // The user_id index is partial: anonymous sessions, usually the majority, cost it nothing.
    db.exec(`
      CREATE TABLE IF NOT EXISTS "${table}" (
        key TEXT PRIMARY KEY NOT NULL,
        user_id TEXT,
        expires_at INTEGER NOT NULL,
        idle_expires_at INTEGER NOT NULL,
        absolute_expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        touched_at INTEGER NOT NULL,
        cookie_max_age INTEGER,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        meta TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS "${table}_user_id" ON "${table}" (user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);
    `);
    db.prepare("INSERT INTO cloakroom_meta (table_name, schema_version) VALUES (?, ?)").run(table, SCHEMA_VERSION);
    return SCHEMA_VERSION;
  });
  return setUp.immediate();
}

export function prepareStatements(db: Database.Database, table: string): Statements {
  const t = `"${table}"`;
  return {
    get: db.prepare(`SELECT ${COLUMNS} FROM ${t} WHERE key = ? AND expires_at > ?`),
    insert: db.prepare(
      `INSERT OR REPLACE INTO ${t} (key, expires_at, ${COLUMNS})
       VALUES (@key, @expires_at, @user_id, @data, @created_at, @touched_at, @idle_expires_at, @absolute_expires_at,
               @cookie_max_age, @version, @meta)`,
    ),
    readForPatch: db.prepare(
      `SELECT data, idle_expires_at, absolute_expires_at, touched_at, cookie_max_age FROM ${t} WHERE key = ? AND expires_at > ?`,
    ),
    writePatch: db.prepare(
      `UPDATE ${t} SET data = @data, idle_expires_at = @idle_expires_at, expires_at = @expires_at,
       touched_at = @touched_at, cookie_max_age = @cookie_max_age, version = version + 1 WHERE key = @key`,
    ),
    // One statement, so atomic without a transaction; the expires_at condition is what makes touch never revive.
    touch: db.prepare(
      `UPDATE ${t} SET idle_expires_at = @idle, touched_at = @touched, expires_at = min(@idle, absolute_expires_at),
       version = version + 1 WHERE key = @key AND expires_at > @now`,
    ),
    destroy: db.prepare(`DELETE FROM ${t} WHERE key = ?`),
    listByUser: db.prepare(
      `SELECT key, ${COLUMNS} FROM ${t} WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC`,
    ),
    destroyByUser: db.prepare(`DELETE FROM ${t} WHERE user_id = ?`),
    destroyByUserExcept: db.prepare(`DELETE FROM ${t} WHERE user_id = ? AND key <> ?`),
    clear: db.prepare(`DELETE FROM ${t}`),
    count: db.prepare<[number], number>(`SELECT count(*) FROM ${t} WHERE expires_at > ?`).pluck(),
    sweepBatch: db.prepare(
      `DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE expires_at <= ? LIMIT ?)`,
    ),
  };
}

export function recordOfRow(row: SessionRow): SessionRecord {
  return {
    userId: row.user_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    touchedAt: row.touched_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    cookieMaxAge: row.cookie_max_age,
    version: row.version,
    meta: JSON.parse(row.meta) as SessionRecord["meta"],
  };
}

