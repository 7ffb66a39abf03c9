/** Accounts in PostgreSQL (pg), used when DATABASE_URL is set. */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { migrateUnderLock, queryOrUnavailable } from "./pg-helpers.js";
import { assertTableName, toUser, type NewUser, type UserRecord, type UserRepository, type UserRow } from "./types.js";

/** Options for {@link PostgresUserRepository}. */
export interface PostgresUserRepositoryOptions {
  /** A pg Pool (shared with the session store and the login throttle); the caller closes it. */
  pool: pg.Pool;
  /** @default "users" */
  tableName?: string;
  /** @default Date.now */
  now?: () => number;
}

/**
 * {@link UserRepository} on PostgreSQL. Email uniqueness is enforced by a unique index on `lower(email)`.
 * @example
 * const users = new PostgresUserRepository({ pool: new pg.Pool({ connectionString }) });
 * await users.migrate();
 */
export class PostgresUserRepository implements UserRepository {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #now: () => number;

  constructor(options: PostgresUserRepositoryOptions) {
    if (!options || typeof options.pool?.query !== "function") throw new TypeError("pool option must be a pg Pool");
    this.#pool = options.pool;
    this.#table = assertTableName(options.tableName ?? "users");
    this.#now = options.now ?? Date.now;
  }

  #query(text: string, values: unknown[] = []): Promise<pg.QueryResult<UserRow>> {
    return queryOrUnavailable<UserRow>(this.#pool, text, values);
  }

  /**
   * Create the table and its email index if missing, and add the columns later versions brought (idempotent; see
   * {@link migrateUnderLock} for why instances take turns).
   * @throws {ServiceUnavailableError} when the database fails
   */
  async migrate(): Promise<void> {
    await migrateUnderLock(this.#pool, `cloakroom:users-migrate:${this.#table}`, [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        password_hash TEXT,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE UNIQUE INDEX IF NOT EXISTS ${this.#table}_email_key ON ${this.#table} (lower(email))`,
      `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS email_verified_at BIGINT`,
      // Passkey-only accounts have no password.
      `ALTER TABLE ${this.#table} ALTER COLUMN password_hash DROP NOT NULL`,
    ]);
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const result = await this.#query(`SELECT * FROM ${this.#table} WHERE lower(email) = lower($1)`, [email]);
    return toUser(result.rows[0]);
  }

  async findUserById(id: string): Promise<UserRecord | null> {
    const result = await this.#query(`SELECT * FROM ${this.#table} WHERE id = $1`, [id]);
    return toUser(result.rows[0]);
  }

  async createUser(user: NewUser): Promise<UserRecord | null> {
    const now = this.#now();
    const result = await this.#query(
      `INSERT INTO ${this.#table} (id, email, password_hash, disabled, created_at, updated_at)
       VALUES ($1, $2, $3, FALSE, $4, $4) ON CONFLICT DO NOTHING RETURNING *`,
      [randomUUID(), user.email, user.passwordHash, now],
    );
    return toUser(result.rows[0]);
  }

  async updatePasswordHash(id: string, passwordHash: string | null): Promise<boolean> {
    const result = await this.#query(`UPDATE ${this.#table} SET password_hash = $1, updated_at = $2 WHERE id = $3`, [passwordHash, this.#now(), id]);
    return result.rowCount === 1;
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    const result = await this.#query(`UPDATE ${this.#table} SET disabled = $1, updated_at = $2 WHERE id = $3`, [disabled, this.#now(), id]);
    return result.rowCount === 1;
  }

  async markEmailVerified(id: string): Promise<boolean> {
    const now = this.#now();
    const result = await this.#query(`UPDATE ${this.#table} SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2`, [now, id]);
    return result.rowCount === 1;
  }

  async listUsers(options: { limit?: number; offset?: number } = {}): Promise<UserRecord[]> {
    const result = await this.#query(`SELECT * FROM ${this.#table} ORDER BY created_at, id LIMIT $1 OFFSET $2`, [options.limit ?? 1000, options.offset ?? 0]);
    return result.rows.map((row) => toUser(row) as UserRecord);
  }

  async ping(): Promise<void> {
    await this.#query("SELECT 1");
  }

  async close(): Promise<void> {
    // The pool belongs to the caller (it is shared with the session store).
  }
}
