/** Accounts in SQLite (better-sqlite3): the default, embedded, nothing to set up. */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { assertTableName, toUser, type NewUser, type UserRecord, type UserRepository, type UserRow } from "./types.js";

/** Options for {@link SqliteUserRepository}. */
export interface SqliteUserRepositoryOptions {
  /** An open better-sqlite3 database (shared with the session store and the login throttle). */
  database: Database.Database;
  /** @default "users" */
  tableName?: string;
  /** @default Date.now */
  now?: () => number;
}

/** The current schema. COLLATE NOCASE backs up the normalization callers already apply: one account per email. */
function usersTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    email_verified_at INTEGER
  )`;
}

/**
 * {@link UserRepository} on better-sqlite3. Queries are synchronous and tiny (indexed by primary key or email).
 * @example
 * const users = new SqliteUserRepository({ database: new Database("data.db") });
 * await users.migrate();
 */
export class SqliteUserRepository implements UserRepository {
  readonly #db: Database.Database;
  readonly #table: string;
  readonly #now: () => number;

  constructor(options: SqliteUserRepositoryOptions) {
    if (!options || typeof options.database?.prepare !== "function") {
      throw new TypeError("database option must be an open better-sqlite3 Database");
    }
    this.#db = options.database;
    this.#table = assertTableName(options.tableName ?? "users");
    this.#now = options.now ?? Date.now;
  }

  /**
   * Create the table, or bring one made by an earlier version to the current schema: `email_verified_at` added and
   * `password_hash` nullable (passkey-only accounts). SQLite cannot drop a NOT NULL constraint, so such a table is
   * rebuilt and its rows copied (the procedure of https://www.sqlite.org/lang_altertable.html §7), in one
   * `BEGIN IMMEDIATE` transaction that re-checks first: processes sharing the file take turns.
   */
  async migrate(): Promise<void> {
    this.#db.exec(usersTableSql(this.#table));
    if (this.#isCurrent()) return;
    this.#db.transaction(() => {
      if (this.#isCurrent()) return;
      const old = new Set(this.#columns().map((c) => c.name));
      const next = `${this.#table}_migrating`;
      this.#db.exec(`DROP TABLE IF EXISTS ${next}; ${usersTableSql(next)}`);
      this.#db.exec(`INSERT INTO ${next} (id, email, password_hash, disabled, created_at, updated_at, email_verified_at)
        SELECT id, email, password_hash, disabled, created_at, updated_at, ${old.has("email_verified_at") ? "email_verified_at" : "NULL"} FROM ${this.#table}`);
      this.#db.exec(`DROP TABLE ${this.#table}; ALTER TABLE ${next} RENAME TO ${this.#table}`);
    }).immediate();
  }

  #columns(): Array<{ name: string; notnull: number }> {
    return this.#db.prepare(`PRAGMA table_info(${this.#table})`).all() as Array<{ name: string; notnull: number }>;
  }

  #isCurrent(): boolean {
    const columns = this.#columns();
    return columns.some((c) => c.name === "email_verified_at") && columns.find((c) => c.name === "password_hash")?.notnull === 0;
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    return toUser(this.#db.prepare(`SELECT * FROM ${this.#table} WHERE email = ?`).get(email) as UserRow | undefined);
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    return toUser(this.#db.prepare(`SELECT * FROM ${this.#table} WHERE id = ?`).get(id) as UserRow | undefined);
  }

  async createUser(user: NewUser): Promise<UserRecord | null> {
    const now = this.#now();
    const row: UserRow = { id: randomUUID(), email: user.email, password_hash: user.passwordHash, disabled: 0, created_at: now, updated_at: now, email_verified_at: null };
    const result = this.#db
      .prepare(
        `INSERT INTO ${this.#table} (id, email, password_hash, disabled, created_at, updated_at, email_verified_at)
         VALUES (@id, @email, @password_hash, @disabled, @created_at, @updated_at, @email_verified_at) ON CONFLICT DO NOTHING`,
      )
      .run(row);
    return result.changes === 1 ? toUser(row) : null;
  }

  async updatePasswordHash(id: string, passwordHash: string | null): Promise<boolean> {
    const result = this.#db
      .prepare(`UPDATE ${this.#table} SET password_hash = ?, updated_at = ? WHERE id = ?`)
      .run(passwordHash, this.#now(), id);
    return result.changes === 1;
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    const result = this.#db
      .prepare(`UPDATE ${this.#table} SET disabled = ?, updated_at = ? WHERE id = ?`)
      .run(disabled ? 1 : 0, this.#now(), id);
    return result.changes === 1;
  }

  async markEmailVerified(id: string): Promise<boolean> {
    const now = this.#now();
    const result = this.#db
      .prepare(`UPDATE ${this.#table} SET email_verified_at = COALESCE(email_verified_at, ?), updated_at = ? WHERE id = ?`)
      .run(now, now, id);
    return result.changes === 1;
  }

  async listUsers(options: { limit?: number; offset?: number } = {}): Promise<UserRecord[]> {
    const rows = this.#db
      .prepare(`SELECT * FROM ${this.#table} ORDER BY created_at, id LIMIT ? OFFSET ?`)
      .all(options.limit ?? 1000, options.offset ?? 0) as UserRow[];
    return rows.map((row) => toUser(row) as UserRecord);
  }

  async ping(): Promise<void> {
    this.#db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    // The database handle belongs to the caller (it is shared with the session store).
  }
}
