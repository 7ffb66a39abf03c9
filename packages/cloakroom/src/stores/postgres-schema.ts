/**
 * The PostgresStore table: identifier validation, the versioned DDL, and the advisory-lock ids derived from the
 * table's name. The schema version lives in the table's COMMENT, so no second bookkeeping table is needed.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { storeError } from "./store-error.js";

/** The table layout this version of cloakroom reads and writes. */
export const SCHEMA_VERSION = 1;

const COMMENT_PREFIX = "cloakroom session store, schema version ";
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers at 63 bytes; the index names append up to 9 characters to the table name. */
const MAX_TABLE_NAME = 54;
const MAX_SCHEMA_NAME = 63;

/** Where the session table lives. */
export interface TableLocation {
  /** @default "public" */
  schema?: string;
  /** @default "cloakroom_sessions" */
  tableName?: string;
}

/** A validated table location with its quoted SQL names. */
export interface ResolvedTable {
  schema: string;
  tableName: string;
  /** `"schema"."table"`, safe to splice into SQL. */
  qualified: string;
  /** Key of the session-level advisory lock held by the one instance sweeping this table. */
  sweepLockId: string;
  /** Key of the transaction-level advisory lock that serializes cloakroom migrations in this schema. */
  migrateLockId: string;
}

/** What {@link migrate} did. */
export interface MigrationResult {
  /** The table's schema version after the call. */
  version: number;
  /** The versions applied by this call, in order; empty when the table was already current. */
  applied: number[];
}

function quoteIdentifier(name: string): string {
  // Validation already restricts names to [A-Za-z0-9_], so quoting only preserves case and shields reserved words.
  return `"${name}"`;
}

function checkIdentifier(option: string, value: unknown, maxLength: number): string {
  if (typeof value !== "string" || !IDENTIFIER.test(value) || value.length > maxLength) {
    throw new TypeError(
      `PostgresStore: options.${option} must be a SQL identifier (letters, digits, _; not starting with a digit; ` +
        `at most ${maxLength} characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * A stable signed 64-bit advisory-lock key, the same in every process and release.
 * @param scope what is locked: `sweep:<schema>.<table>` or `migrate:<schema>`
 * @returns the key as a decimal string (sent as `bigint`)
 */
export function advisoryLockId(scope: string): string {
  return createHash("sha256").update(`cloakroom:${scope}`).digest().readBigInt64BE(0).toString();
}

/**
 * Validate and quote a table location.
 * @throws {TypeError} naming `options.schema` or `options.tableName` when either is not a plain identifier
 */
export function resolveTable(location: TableLocation = {}): ResolvedTable {
  const schema = checkIdentifier("schema", location.schema ?? "public", MAX_SCHEMA_NAME);
  const tableName = checkIdentifier("tableName", location.tableName ?? "cloakroom_sessions", MAX_TABLE_NAME);
  return {
    schema,
    tableName,
    qualified: `${quoteIdentifier(schema)}.${quoteIdentifier(tableName)}`,
    sweepLockId: advisoryLockId(`sweep:${schema}.${tableName}`),
    // Per schema, not per table: two tables created at once in a new schema would otherwise race on CREATE SCHEMA.
    migrateLockId: advisoryLockId(`migrate:${schema}`),
  };
}

/** Statements taking a table from version `version - 1` to `version`. */
interface Migration {
  version: number;
  statements(table: ResolvedTable): string[];
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: (t) => [
      // Times are epoch ms as double precision: exact for every integer below 2^53, and, unlike bigint, for any
      // other number a clock may produce (fractions, Infinity), so get() returns exactly what create() stored.
      // No timestamptz, so no time-zone or precision surprises.
      `CREATE TABLE ${t.qualified} (
        key_hash bytea PRIMARY KEY,
        key text NOT NULL,
        user_id text,
        data jsonb NOT NULL,
        created_at double precision NOT NULL,
        touched_at double precision NOT NULL,
        idle_expires_at double precision NOT NULL,
        absolute_expires_at double precision NOT NULL,
        expires_at double precision NOT NULL,
        cookie_max_age double precision,
        version bigint NOT NULL,
        meta jsonb NOT NULL
      )`,
      // A hash index has no entry-size limit (user ids are arbitrary strings) and equality is all listByUser needs.
      `CREATE INDEX ${quoteIdentifier(`${t.tableName}_user_idx`)} ON ${t.qualified} USING hash (user_id)
        WHERE user_id IS NOT NULL`,
      `CREATE INDEX ${quoteIdentifier(`${t.tableName}_exp_idx`)} ON ${t.qualified} (expires_at)`,
    ],
  },
];

/** The table is not one this release can use; not an infrastructure failure, so it carries no `cause`. */
class TableConflictError extends Error {
  override name = "TableConflictError";
}

function parseVersion(comment: string | null): number | null {
  if (comment === null || !comment.startsWith(COMMENT_PREFIX)) return null;
  const version = Number(comment.slice(COMMENT_PREFIX.length));
  return Number.isInteger(version) && version > 0 ? version : null;
}

async function readVersion(client: pg.PoolClient, table: ResolvedTable): Promise<number | "missing" | "foreign"> {
  const { rows } = await client.query<{ exists: boolean; comment: string | null }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists, obj_description(to_regclass($1), 'pg_class') AS comment`,
    [table.qualified],
  );
  const row = rows[0];
  if (!row?.exists) return "missing";
  return parseVersion(row.comment) ?? "foreign";
}

async function applyMigrations(client: pg.PoolClient, table: ResolvedTable): Promise<MigrationResult> {
  // Transaction-scoped: concurrent starters queue here, then see the finished table and apply nothing.
  await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [table.migrateLockId]);
  const current = await readVersion(client, table);
  if (current === "foreign") {
    throw new TableConflictError(
      `PostgresStore: table ${table.qualified} exists but was not created by cloakroom (no schema-version comment); ` +
        "pick another tableName or drop it",
    );
  }
  const from = current === "missing" ? 0 : current;
  if (from > SCHEMA_VERSION) {
    throw new TableConflictError(
      `PostgresStore: table ${table.qualified} has schema version ${from}, newer than this cloakroom (${SCHEMA_VERSION})`,
    );
  }
  if (from === 0) {
    const { rows } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [table.schema]);
    // Only create a missing schema: CREATE SCHEMA IF NOT EXISTS would demand the CREATE privilege even when it exists.
    if (rows.length === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(table.schema)}`);
  }
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    for (const statement of migration.statements(table)) await client.query(statement);
    applied.push(migration.version);
  }
  if (applied.length > 0) {
    // COMMENT takes a literal, not a parameter; the text is ours and contains no quote.
    await client.query(`COMMENT ON TABLE ${table.qualified} IS '${COMMENT_PREFIX}${SCHEMA_VERSION}'`);
  }
  return { version: Math.max(from, SCHEMA_VERSION), applied };
}

/**
 * Create the session table, or bring an older one up to this version, in one transaction. Idempotent and safe to run
 * from several processes at once (they serialize on an advisory lock). PostgresStore runs it on first use unless
 * `createTable: false`; call it yourself from a deploy step or CLI when the application's role may not run DDL.
 *
 * @param pool a pg Pool (or anything with `connect()`), not ended by this function
 * @param location `schema` (default "public") and `tableName` (default "cloakroom_sessions")
 * @returns the resulting schema version and the versions this call applied (`[]` when already current)
 * @throws {TypeError} when `schema` or `tableName` is not a plain SQL identifier
 * @throws {Error} with `cause` when the database fails; when the table exists but is not cloakroom's, or is newer
 * @example
 * import pg from "pg";
 * import { migrate } from "cloakroom/postgres";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * console.log(await migrate(pool, { tableName: "sessions" })); // { version: 1, applied: [1] }
 * await pool.end();
 */
export async function migrate(pool: Pick<pg.Pool, "connect">, location: TableLocation = {}): Promise<MigrationResult> {
  const table = resolveTable(location);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
    await client.query("BEGIN").catch((cause: unknown) => {
      client.release(cause instanceof Error ? cause : true);
      throw cause;
    });
  } catch (cause) {
    throw storeError("PostgresStore", `migrate(${table.qualified})`, cause);
  }
  try {
    const result = await applyMigrations(client, table);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    // A connection whose ROLLBACK fails is in an unknown state: destroy it rather than return it to the pool.
    const rollbackFailure = await client.query("ROLLBACK").then(
      () => undefined,
      (rollbackError: unknown) => (rollbackError instanceof Error ? rollbackError : true),
    );
    client.release(rollbackFailure);
    if (error instanceof TableConflictError) throw error;
    throw storeError("PostgresStore", `migrate(${table.qualified})`, error);
  }
}
