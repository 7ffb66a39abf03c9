/** Passkeys in SQLite, next to the users table. */
import type Database from "better-sqlite3";
import { toPasskey, toPasskeyRow, type PasskeyRecord, type PasskeyRepository, type PasskeyRow } from "./passkeys.js";
import { assertTableName } from "./types.js";

/** Options for {@link SqlitePasskeyRepository}. */
export interface SqlitePasskeyRepositoryOptions {
  /** The database the users live in (the caller closes it). */
  database: Database.Database;
  /** @default "user_passkeys" */
  tableName?: string;
}

/**
 * {@link PasskeyRepository} on better-sqlite3.
 * @example
 * const passkeys = new SqlitePasskeyRepository({ database });
 * await passkeys.migrate();
 */
export class SqlitePasskeyRepository implements PasskeyRepository {
  readonly #db: Database.Database;
  readonly #table: string;

  constructor(options: SqlitePasskeyRepositoryOptions) {
    if (!options || typeof options.database?.prepare !== "function") throw new TypeError("database option must be an open better-sqlite3 Database");
    this.#db = options.database;
    this.#table = assertTableName(options.tableName ?? "user_passkeys");
  }

  async migrate(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      name TEXT NOT NULL,
      public_key BLOB NOT NULL,
      counter INTEGER NOT NULL,
      transports TEXT NOT NULL,
      device_type TEXT NOT NULL,
      backed_up INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS ${this.#table}_user ON ${this.#table} (user_id)`);
  }

  async addPasskey(passkey: PasskeyRecord): Promise<boolean> {
    const row = { ...toPasskeyRow(passkey), public_key: Buffer.from(passkey.publicKey), backed_up: passkey.backedUp ? 1 : 0 };
    const result = this.#db
      .prepare(
        `INSERT INTO ${this.#table} (id, user_id, name, public_key, counter, transports, device_type, backed_up, created_at, last_used_at)
         VALUES (@id, @user_id, @name, @public_key, @counter, @transports, @device_type, @backed_up, @created_at, @last_used_at) ON CONFLICT DO NOTHING`,
      )
      .run(row);
    return result.changes === 1;
  }

  async findPasskey(id: string): Promise<PasskeyRecord | null> {
    const row = this.#db.prepare(`SELECT * FROM ${this.#table} WHERE id = ?`).get(id) as PasskeyRow | undefined;
    return row ? toPasskey(row) : null;
  }

  async listUserPasskeys(userId: string): Promise<PasskeyRecord[]> {
    const rows = this.#db.prepare(`SELECT * FROM ${this.#table} WHERE user_id = ? ORDER BY created_at, id`).all(userId) as PasskeyRow[];
    return rows.map(toPasskey);
  }

  async recordPasskeyUse(id: string, use: { counter: number; backedUp: boolean; usedAt: number }): Promise<void> {
    this.#db.prepare(`UPDATE ${this.#table} SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?`).run(use.counter, use.backedUp ? 1 : 0, use.usedAt, id);
  }

  async deletePasskey(userId: string, id: string): Promise<boolean> {
    return this.#db.prepare(`DELETE FROM ${this.#table} WHERE user_id = ? AND id = ?`).run(userId, id).changes === 1;
  }
}
