/** Passkeys in PostgreSQL, next to the users table. */
import type pg from "pg";
import { migrateUnderLock, queryOrUnavailable } from "./pg-helpers.js";
import { toPasskey, toPasskeyRow, type PasskeyRecord, type PasskeyRepository, type PasskeyRow } from "./passkeys.js";
import { assertTableName } from "./types.js";

/** Options for {@link PostgresPasskeyRepository}. */
export interface PostgresPasskeyRepositoryOptions {
  /** The users' pool (the caller closes it). */
  pool: pg.Pool;
  /** @default "user_passkeys" */
  tableName?: string;
}

/**
 * {@link PasskeyRepository} on PostgreSQL.
 * @example
 * const passkeys = new PostgresPasskeyRepository({ pool });
 * await passkeys.migrate();
 */
export class PostgresPasskeyRepository implements PasskeyRepository {
  readonly #pool: pg.Pool;
  readonly #table: string;

  constructor(options: PostgresPasskeyRepositoryOptions) {
    if (!options || typeof options.pool?.query !== "function") throw new TypeError("pool option must be a pg Pool");
    this.#pool = options.pool;
    this.#table = assertTableName(options.tableName ?? "user_passkeys");
  }

  #query(text: string, values: unknown[] = []): Promise<pg.QueryResult<PasskeyRow>> {
    return queryOrUnavailable<PasskeyRow>(this.#pool, text, values);
  }

  async migrate(): Promise<void> {
    await migrateUnderLock(this.#pool, `cloakroom:passkeys-migrate:${this.#table}`, [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        public_key BYTEA NOT NULL,
        counter BIGINT NOT NULL,
        transports TEXT NOT NULL,
        device_type TEXT NOT NULL,
        backed_up BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT
      )`,
      `CREATE INDEX IF NOT EXISTS ${this.#table}_user ON ${this.#table} (user_id)`,
    ]);
  }

  async addPasskey(passkey: PasskeyRecord): Promise<boolean> {
    const r = toPasskeyRow(passkey);
    const result = await this.#query(
      `INSERT INTO ${this.#table} (id, user_id, name, public_key, counter, transports, device_type, backed_up, created_at, last_used_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [r.id, r.user_id, r.name, Buffer.from(passkey.publicKey), r.counter, r.transports, r.device_type, r.backed_up, r.created_at, r.last_used_at],
    );
    return result.rowCount === 1;
  }

  async findPasskey(id: string): Promise<PasskeyRecord | null> {
    const row = (await this.#query(`SELECT * FROM ${this.#table} WHERE id = $1`, [id])).rows[0];
    return row ? toPasskey(row) : null;
  }

  async listUserPasskeys(userId: string): Promise<PasskeyRecord[]> {
    return (await this.#query(`SELECT * FROM ${this.#table} WHERE user_id = $1 ORDER BY created_at, id`, [userId])).rows.map(toPasskey);
  }

  async recordPasskeyUse(id: string, use: { counter: number; backedUp: boolean; usedAt: number }): Promise<void> {
    await this.#query(`UPDATE ${this.#table} SET counter = $1, backed_up = $2, last_used_at = $3 WHERE id = $4`, [use.counter, use.backedUp, use.usedAt, id]);
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    return (await this.#query(`DELETE FROM ${this.#table} WHERE user_id = $1 AND id = $2`, [userId, id])).rowCount === 1;
  }
}
