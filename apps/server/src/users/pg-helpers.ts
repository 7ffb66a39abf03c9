/** What every PostgreSQL repository of this server shares: the 503 for a failed query, and migrations taken in turns. */
import { ServiceUnavailableError } from "cloakroom";
import type pg from "pg";

/** A failed database call, as the 503 every caller answers with. */
export function databaseUnavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError("User database query failed", { code: "USER_DATABASE_UNAVAILABLE", cause });
}

/**
 * Run one query; a driver failure becomes {@link databaseUnavailable}.
 * @throws {ServiceUnavailableError}
 */
export async function queryOrUnavailable<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(text, values);
  } catch (error) {
    throw databaseUnavailable(error);
  }
}

/**
 * Run `work` in one transaction on one client: COMMIT when it resolves, ROLLBACK when it throws.
 * @throws {ServiceUnavailableError} when the database fails
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw databaseUnavailable(error);
  }
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw databaseUnavailable(error);
  } finally {
    client.release();
  }
}

/**
 * Run DDL statements in one transaction under an advisory lock named `lockName`. Several instances starting at once
 * on a fresh database would race: `CREATE TABLE IF NOT EXISTS` is not safe against a concurrent twin (one of them
 * fails on pg_type's unique index), so migrations take turns.
 * @throws {ServiceUnavailableError} when the database fails
 */
export async function migrateUnderLock(pool: pg.Pool, lockName: string, statements: string[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [lockName]);
    for (const statement of statements) await client.query(statement);
  });
}
