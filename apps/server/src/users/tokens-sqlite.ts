/** Mailed-token hashes in SQLite, next to the users table. */
import type Database from "better-sqlite3";
import { liveTokenUser, type TokenPurpose, type TokenRepository, type TokenRow } from "./tokens.js";
import { assertTableName } from "./types.js";

/** Options for {@link SqliteTokenRepository}. */
export interface SqliteTokenRepositoryOptions {
  /** The database the users live in (the caller closes it). */
  database: Database.Database;
  /** @default "user_tokens" */
  tableName?: string;
}

/**
 * {@link TokenRepository} on better-sqlite3.
 * @example
 * const tokens = new SqliteTokenRepository({ database });
 * await tokens.migrate();
 */
export class SqliteTokenRepository implements TokenRepository {
  readonly #db: Database.Database;
  readonly #table: string;

  constructor(options: SqliteTokenRepositoryOptions) {
    if (!options || typeof options.database?.prepare !== "function") throw new TypeError("database option must be an open better-sqlite3 Database");
    this.#db = options.database;
    this.#table = assertTableName(options.tableName ?? "user_tokens");
  }

  async migrate(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      token_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      purpose TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${this.#table}_user ON ${this.#table} (user_id, purpose);
    CREATE INDEX IF NOT EXISTS ${this.#table}_expiry ON ${this.#table} (expires_at)`);
  }

  async replaceToken(input: { userId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: number; now: number }): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare(`DELETE FROM ${this.#table} WHERE (user_id = ? AND purpose = ?) OR expires_at <= ?`).run(input.userId, input.purpose, input.now);
      this.#db
        .prepare(`INSERT INTO ${this.#table} (token_hash, user_id, purpose, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(input.tokenHash, input.userId, input.purpose, input.expiresAt, input.now);
    })();
  }

  async findToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null> {
    const row = this.#db.prepare(`SELECT user_id, expires_at FROM ${this.#table} WHERE token_hash = ? AND purpose = ?`).get(tokenHash, purpose);
    return liveTokenUser(row as TokenRow | undefined, now);
  }

  async consumeToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null> {
    const row = this.#db.prepare(`DELETE FROM ${this.#table} WHERE token_hash = ? AND purpose = ? RETURNING user_id, expires_at`).get(tokenHash, purpose);
    return liveTokenUser(row as TokenRow | undefined, now);
  }

  async deleteUserTokens(userId: string, purpose: TokenPurpose): Promise<void> {
    this.#db.prepare(`DELETE FROM ${this.#table} WHERE user_id = ? AND purpose = ?`).run(userId, purpose);
  }
}
