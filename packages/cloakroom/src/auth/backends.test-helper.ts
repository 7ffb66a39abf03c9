/**
 * Test support (not part of the library): the real rate-limit backends the throttle and rate-limit suites run on.
 * Redis and PostgreSQL are the real servers (never mocks); outside CI an unreachable one skips its suite with one line.
 */
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";
import {
  DATABASE_URL,
  postgresReachable,
  REDIS_URL,
  redisReachable,
  uniqueSuffix,
} from "../../test/servers.js";
import type { RateLimitBackend } from "./rate-limit-backend.js";

/** One opened backend: what to pass as `backend`, a unique key prefix, how to list stored keys, how to clean up. */
export interface OpenedBackend {
  backend: RateLimitBackend;
  keyPrefix: string;
  /** Every key stored under `keyPrefix`, or null where the store cannot be listed (memory). */
  storedKeys(): Promise<string[] | null>;
  close(): Promise<void>;
}

export interface BackendFixture {
  name: string;
  /** Whether the suite should run (prints the skip line itself). */
  available: boolean;
  open(): Promise<OpenedBackend>;
}

/** The fixtures, with reachability resolved up front so suites can use `describe.skipIf`. */
export async function rateLimitBackends(): Promise<BackendFixture[]> {
  const [redisUp, postgresUp] = await Promise.all([redisReachable(), postgresReachable()]);
  return [
    { name: "memory", available: true, open: openMemory },
    { name: "sqlite", available: true, open: openSqlite },
    { name: "redis", available: redisUp, open: openRedis },
    { name: "postgres", available: postgresUp, open: openPostgres },
  ];
}

async function openMemory(): Promise<OpenedBackend> {
  return { backend: { type: "memory" }, keyPrefix: `t${uniqueSuffix()}`, storedKeys: async () => null, close: async () => {} };
}

async function openSqlite(): Promise<OpenedBackend> {
  const database = new Database(":memory:");
  const tableName = `rl_${uniqueSuffix()}`;
  const keyPrefix = `t${uniqueSuffix()}`;
  return {
    backend: { type: "sqlite", database, tableName },
    keyPrefix,
    storedKeys: async () => {
      const rows = database.prepare(`SELECT key FROM ${tableName}`).all() as Array<{ key: string }>;
      return rows.map((row) => row.key);
    },
    close: async () => void database.close(),
  };
}

async function openRedis(): Promise<OpenedBackend> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const keyPrefix = `cloakroom-test:${uniqueSuffix()}`;
  const storedKeys = async (): Promise<string[]> => client.keys(`${keyPrefix}*`);
  return {
    backend: { type: "redis", client },
    keyPrefix,
    storedKeys,
    close: async () => {
      const keys = await storedKeys();
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
}

async function openPostgres(): Promise<OpenedBackend> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const tableName = `rl_${uniqueSuffix()}`;
  const keyPrefix = `t${uniqueSuffix()}`;
  return {
    backend: { type: "postgres", pool, tableName },
    keyPrefix,
    storedKeys: async () => (await pool.query<{ key: string }>(`SELECT key FROM "${tableName}"`)).rows.map((r) => r.key),
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS "${tableName}"`);
      await pool.end();
    },
  };
}

/** Wait `ms` milliseconds (real time: the stores expire keys on their own clocks). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
