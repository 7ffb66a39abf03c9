/**
 * PostgresStore's SQL, one statement per operation, and the mapping from a selected row back to a SessionRecord.
 * Values always travel as parameters; the only spliced text is the table name, validated and quoted by
 * `resolveTable`.
 */
import { hash } from "node:crypto";
import type { SessionMeta, SessionRecord } from "../core/types.js";
import { decodeJson } from "./postgres-codec.js";
import type { ResolvedTable } from "./postgres-schema.js";

/**
 * A session as `get` and `listByUser` select it: one text column, a JSON array that PostgreSQL builds from the row
 * (see RECORD). One column instead of nine spares the client most of its per-query work: pg describes, looks up a
 * type parser for, and copies into the row object every column of every result, and here one `JSON.parse` decodes
 * the whole record, `data` and `meta` included.
 */
export interface SessionRow {
  record: string;
}

/** `RECORD`'s array, element by element: times are numbers, or "Infinity"/"-Infinity"/"NaN" (JSON has no such number). */
type RecordTuple = [
  userId: string | null,
  data: Record<string, unknown>,
  createdAt: number | string,
  touchedAt: number | string,
  idleExpiresAt: number | string,
  absoluteExpiresAt: number | string,
  cookieMaxAge: number | string | null,
  version: number,
  meta: SessionMeta,
];

// float8 reaches JSON through float8out, which (PostgreSQL ≥ 12, extra_float_digits ≥ 1) writes the shortest text
// that reads back to the same double, so a time survives exactly, as it did through pg's own float8 parser.
const RECORD = `json_build_array(user_id, data, created_at, touched_at, idle_expires_at, absolute_expires_at,
  cookie_max_age, version, meta)::text AS record`;

function time(value: number | string): number {
  return typeof value === "number" ? value : Number(value);
}

/**
 * Decode the `record` column of a selected row. Every string in it — the user id, and the strings and keys of `data`
 * and `meta` — went through `encodeString` on the way in, so one reviving parse undoes them all.
 */
export function rowToRecord(row: SessionRow): SessionRecord {
  const [userId, data, createdAt, touchedAt, idleExpiresAt, absoluteExpiresAt, cookieMaxAge, version, meta] =
    decodeJson(row.record) as RecordTuple;
  return {
    userId,
    data,
    createdAt: time(createdAt),
    touchedAt: time(touchedAt),
    idleExpiresAt: time(idleExpiresAt),
    absoluteExpiresAt: time(absoluteExpiresAt),
    cookieMaxAge: cookieMaxAge === null ? null : time(cookieMaxAge),
    version,
    meta,
  };
}

type Operation =
  "get" | "create" | "patch" | "touch" | "destroy" | "listByUser" | "destroyByUser" | "clear" | "count" | "sweepBatch";

/** A named prepared statement: pg parses it once per connection, then sends only Bind/Describe/Execute. */
export interface Statement {
  name: string;
  text: string;
}

/** The statement of each PostgresStore operation. */
export type Statements = Record<Operation, Statement>;

/**
 * The statements of each operation, built once per store from its (validated, quoted) table name. Their names carry
 * a digest of the table name: a prepared statement belongs to a connection, and two stores on different tables may
 * share one pool.
 */
export function buildStatements(table: ResolvedTable): Statements {
  const tag = hash("sha256", table.qualified, "hex").slice(0, 16);
  const texts = sqlOf(table.qualified);
  const statements = {} as Statements;
  for (const operation of Object.keys(texts) as Operation[]) {
    statements[operation] = { name: `cloakroom_${tag}_${operation}`, text: texts[operation] };
  }
  return statements;
}

function sqlOf(t: string): Record<Operation, string> {
  return {
    get: `SELECT ${RECORD} FROM ${t} WHERE key_hash = $1 AND expires_at > $2`,
    create: `INSERT INTO ${t} (key_hash, key, user_id, data, created_at, touched_at, idle_expires_at,
        absolute_expires_at, expires_at, cookie_max_age, version, meta)
      VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
      ON CONFLICT (key_hash) DO UPDATE SET key = EXCLUDED.key, user_id = EXCLUDED.user_id, data = EXCLUDED.data,
        created_at = EXCLUDED.created_at, touched_at = EXCLUDED.touched_at,
        idle_expires_at = EXCLUDED.idle_expires_at, absolute_expires_at = EXCLUDED.absolute_expires_at,
        expires_at = EXCLUDED.expires_at, cookie_max_age = EXCLUDED.cookie_max_age, version = EXCLUDED.version,
        meta = EXCLUDED.meta`,
    // SET expressions see the row as it was, and under concurrency PostgreSQL re-evaluates them on the newest row
    // version (READ COMMITTED), so two patches of different keys both survive. `- $2` before `|| $3`: a key both
    // set and unset ends up set. `ELSE data` keeps a large TOASTed value untouched when only expiry changes.
    patch: `UPDATE ${t} SET
        data = CASE WHEN $3::jsonb IS NULL THEN data ELSE (data - $2::text[]) || $3::jsonb END,
        idle_expires_at = COALESCE($4::float8, idle_expires_at),
        expires_at = LEAST(COALESCE($4::float8, idle_expires_at), absolute_expires_at),
        touched_at = COALESCE($5::float8, touched_at),
        cookie_max_age = CASE WHEN $6::boolean THEN $7::float8 ELSE cookie_max_age END,
        version = version + 1
      WHERE key_hash = $1 AND expires_at > $8`,
    touch: `UPDATE ${t} SET idle_expires_at = $2::float8, expires_at = LEAST($2::float8, absolute_expires_at),
        touched_at = $3, version = version + 1
      WHERE key_hash = $1 AND expires_at > $4`,
    destroy: `DELETE FROM ${t} WHERE key_hash = $1`,
    listByUser: `SELECT key, ${RECORD} FROM ${t} WHERE user_id = $1 AND expires_at > $2
      ORDER BY created_at DESC`,
    // Already-expired rows of the user go too (they are garbage), but only live sessions are counted as revoked.
    destroyByUser: `WITH removed AS (
        DELETE FROM ${t} WHERE user_id = $1 AND ($2::bytea IS NULL OR key_hash <> $2::bytea) RETURNING expires_at
      ) SELECT count(*) FILTER (WHERE expires_at > $3)::float8 AS n FROM removed`,
    // TRUNCATE, not DELETE: instant on millions of rows (a DELETE would run into statement_timeout) and no bloat.
    clear: `TRUNCATE ${t}`,
    count: `SELECT count(*)::float8 AS n FROM ${t} WHERE expires_at > $1`,
    // ctid picks the batch without a second index lookup. The outer `expires_at <= $1` is re-checked on the newest
    // row version if a concurrent touch updated the row meanwhile, so a just-revived session is never deleted.
    sweepBatch: `DELETE FROM ${t} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${t} WHERE expires_at <= $1 LIMIT $2
      )) AND expires_at <= $1`,
  };
}
