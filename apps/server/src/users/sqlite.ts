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

  async migrate(): Promise<void> {
    // COLLATE NOCASE backs up the normalization the callers already apply: one account per email, whatever the case.
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id TEXT PRIMARY KEY,
      email TEXT NOT NULL UNIQUE COLLATE NOCASE,
      password_hash TEXT NOT NULL,
      disabled INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    )`);
    // Columns added by later versions (SQLite has no ADD COLUMN IF NOT EXISTS).
    const columns = new Set((this.#db.prepare(`PRAGMA table_info(${this.#table})`).all() as Array<{ name: string }>).map((c) => c.name));
    if (!columns.has("email_verified_at")) this.#db.exec(`ALTER TABLE ${this.#table} ADD COLUMN email_verified_at INTEGER`);
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

  async updatePasswordHash(id: string, passwordHash: string): Promise<boolean> {
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
