/** Mailed-token hashes in PostgreSQL, next to the users table. */
import type pg from "pg";
import { inTransaction, migrateUnderLock, queryOrUnavailable } from "./pg-helpers.js";
import { liveTokenUser, type TokenPurpose, type TokenRepository, type TokenRow } from "./tokens.js";
import { assertTableName } from "./types.js";

/** Options for {@link PostgresTokenRepository}. */
export interface PostgresTokenRepositoryOptions {
  /** The users' pool (the caller closes it). */
  pool: pg.Pool;
  /** @default "user_tokens" */
  tableName?: string;
}

/**
 * {@link TokenRepository} on PostgreSQL.
 * @example
 * const tokens = new PostgresTokenRepository({ pool });
 * await tokens.migrate();
 */
export class PostgresTokenRepository implements TokenRepository {
  readonly #pool: pg.Pool;
  readonly #table: string;

  constructor(options: PostgresTokenRepositoryOptions) {
    if (!options || typeof options.pool?.query !== "function") throw new TypeError("pool option must be a pg Pool");
    this.#pool = options.pool;
    this.#table = assertTableName(options.tableName ?? "user_tokens");
  }

  async migrate(): Promise<void> {
    await migrateUnderLock(this.#pool, `cloakroom:tokens-migrate:${this.#table}`, [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${this.#table}_user ON ${this.#table} (user_id, purpose)`,
      `CREATE INDEX IF NOT EXISTS ${this.#table}_expiry ON ${this.#table} (expires_at)`,
    ]);
  }

  async replaceToken(input: { userId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: number; now: number }): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(`DELETE FROM ${this.#table} WHERE (user_id = $1 AND purpose = $2) OR expires_at <= $3`, [input.userId, input.purpose, input.now]);
      await client.query(`INSERT INTO ${this.#table} (token_hash, user_id, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`, [
        input.tokenHash,
        input.userId,
        input.purpose,
        input.expiresAt,
        input.now,
      ]);
    });
  }

  async findToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null> {
    const result = await queryOrUnavailable<TokenRow>(this.#pool, `SELECT user_id, expires_at FROM ${this.#table} WHERE token_hash = $1 AND purpose = $2`, [tokenHash, purpose]);
    return liveTokenUser(result.rows[0], now);
  }

  async consumeToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null> {
    const result = await queryOrUnavailable<TokenRow>(this.#pool, `DELETE FROM ${this.#table} WHERE token_hash = $1 AND purpose = $2 RETURNING user_id, expires_at`, [tokenHash, purpose]);
    return liveTokenUser(result.rows[0], now);
  }

  async deleteUserTokens(userId: string, purpose: TokenPurpose): Promise<void> {
    await queryOrUnavailable(this.#pool, `DELETE FROM ${this.#table} WHERE user_id = $1 AND purpose = $2`, [userId, purpose]);
  }
}
