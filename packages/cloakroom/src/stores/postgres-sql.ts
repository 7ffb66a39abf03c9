/**
 * PostgresStore's SQL, one statement per operation, and the mapping from a selected row back to a SessionRecord.
 * Values always travel as parameters; the only spliced text is the table name, validated and quoted by
 * `resolveTable`.
 */
import type { SessionMeta, SessionRecord } from "../core/types.js";
import { decodeJson, decodeString } from "./postgres-codec.js";
import type { ResolvedTable } from "./postgres-schema.js";

/** A session row as selected (times are `double precision`, which pg returns as numbers; `bigint` comes as a string). */
export interface SessionRow {
  key: string;
  user_id: string | null;
  data: string;
  created_at: number;
  touched_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  cookie_max_age: number | null;
  version: string;
  meta: string;
}

const RECORD_COLUMNS = `user_id, data::text AS data, created_at, touched_at, idle_expires_at, absolute_expires_at,
  cookie_max_age, version, meta::text AS meta`;

export function rowToRecord(row: SessionRow): SessionRecord {
  return {
    userId: row.user_id === null ? null : decodeString(row.user_id),
    data: decodeJson(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    touchedAt: row.touched_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    cookieMaxAge: row.cookie_max_age,
    version: Number(row.version),
    meta: decodeJson(row.meta) as SessionMeta,
  };
}

/** The SQL text of each PostgresStore operation. */
export type Statements = Record<
  "get" | "create" | "patch" | "touch" | "destroy" | "listByUser" | "destroyByUser" | "clear" | "count" | "sweepBatch",
  string
>;

/** The SQL of each operation, built once per store from its (validated, quoted) table name. */
export function buildStatements(table: ResolvedTable): Statements {
  const t = table.qualified;
  return {
    get: `SELECT ${RECORD_COLUMNS} FROM ${t} WHERE key_hash = $1 AND expires_at > $2`,
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
    listByUser: `SELECT key, ${RECORD_COLUMNS} FROM ${t} WHERE user_id = $1 AND expires_at > $2
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
