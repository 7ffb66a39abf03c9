/**
 * Open what a configuration needs: the session store, the users repository (with the mailed tokens beside it), the
 * login throttle and the mail limits, all on the same backend where possible (so every instance shares sessions and
 * counters), plus a readiness probe.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { MemcacheClient } from "memcache-client";
import pg from "pg";
import { MemoryStore, type SessionStore } from "cloakroom";
import { createLoginThrottle } from "cloakroom/auth";
import type { ServerConfig } from "./config.js";
import { createMailLimits, type MailLimits } from "./recovery/mail-limits.js";
import { PostgresUserRepository } from "./users/postgres.js";
import { SqliteUserRepository } from "./users/sqlite.js";
import type { PasskeyRepository } from "./users/passkeys.js";
import { PostgresPasskeyRepository } from "./users/passkeys-postgres.js";
import { SqlitePasskeyRepository } from "./users/passkeys-sqlite.js";
import type { TokenRepository } from "./users/tokens.js";
import { PostgresTokenRepository } from "./users/tokens-postgres.js";
import { SqliteTokenRepository } from "./users/tokens-sqlite.js";
import type { UserRepository } from "./users/types.js";

/** The login throttle as cloakroom/auth builds it. */
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/** Everything the app needs from the outside world, and how to release it. */
export interface Backends {
  store: SessionStore;
  users: UserRepository;
  /** Hashes of mailed tokens, in the users' database. */
  tokens: TokenRepository;
  /** Passkeys, in the users' database. */
  passkeys: PasskeyRepository;
  throttle: LoginThrottle;
  mailLimits: MailLimits;
  /** Resolves when the session store and the users database answer; rejects otherwise. */
  checkReady(): Promise<void>;
  /** Close the store, then every client and database this function opened. */
  close(): Promise<void>;
}

/** Knobs for tests: table names and prefixes so parallel runs never share data. */
export interface BackendOverrides {
  /** The users table; the tokens and passkeys tables are named after it (`<usersTable>_tokens`, `…_passkeys`). */
  usersTable?: string;
  sessionsTable?: string;
  keyPrefix?: string;
}

/** The SQLite file every embedded piece shares. */
export function sqlitePath(config: Pick<ServerConfig, "dataDir">): string {
  return path.join(config.dataDir, "cloakroom.db");
}

/**
 * Open the backends for a configuration. Users go to PostgreSQL when DATABASE_URL is set, to SQLite otherwise;
 * sessions go to SESSION_STORE, behind a local cache when SESSION_CACHE=on; the throttle follows the session store
 * (memory stays per process). Store modules and their drivers are imported only when chosen.
 * @throws {Error} when a database cannot be opened or migrated (the driver's error as `cause`)
 */
export async function openBackends(config: ServerConfig, overrides: BackendOverrides = {}): Promise<Backends> {
  const closers: Array<() => Promise<void> | void> = [];
  let sqlite: Database.Database | null = null;
  let pool: pg.Pool | null = null;
  const openSqlite = (): Database.Database => {
    if (!sqlite) {
      fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      const db = new Database(sqlitePath(config));
      db.pragma("journal_mode = WAL");
      db.pragma("busy_timeout = 5000");
      closers.push(() => void db.close());
      sqlite = db;
    }
    return sqlite;
  };
  const openPool = (connectionString: string): pg.Pool => {
    if (!pool) {
      const p = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000 });
      // An idle client's error (server restart) must not crash the process; the next query reports it.
      p.on("error", () => {});
      closers.push(() => p.end());
      pool = p;
    }
    return pool;
  };
  try {
    const beside = (suffix: string): string | undefined => (overrides.usersTable ? `${overrides.usersTable}_${suffix}` : undefined);
    let users: UserRepository;
    let tokens: TokenRepository;
    let passkeys: PasskeyRepository;
    if (config.databaseUrl) {
      const p = openPool(config.databaseUrl);
      users = new PostgresUserRepository({ pool: p, tableName: overrides.usersTable });
      tokens = new PostgresTokenRepository({ pool: p, tableName: beside("tokens") });
      passkeys = new PostgresPasskeyRepository({ pool: p, tableName: beside("passkeys") });
    } else {
      const database = openSqlite();
      users = new SqliteUserRepository({ database, tableName: overrides.usersTable });
      tokens = new SqliteTokenRepository({ database, tableName: beside("tokens") });
      passkeys = new SqlitePasskeyRepository({ database, tableName: beside("passkeys") });
    }
    await users.migrate();
    await tokens.migrate();
    await passkeys.migrate();

    const prefix = overrides.keyPrefix ?? "cloakroom:";
    let store: SessionStore;
    let throttleBackend: Parameters<typeof createLoginThrottle>[0]["backend"];
    const session = config.session;
    switch (session.store) {
      case "memory":
        store = new MemoryStore();
        throttleBackend = { type: "memory" };
        break;
      case "sqlite": {
        const { SqliteStore } = await import("cloakroom/sqlite");
        const database = openSqlite();
        store = new SqliteStore({ database, tableName: overrides.sessionsTable });
        throttleBackend = { type: "sqlite", database };
        break;
      }
      case "postgres": {
        const { PostgresStore } = await import("cloakroom/postgres");
        const p = openPool(session.databaseUrl);
        store = new PostgresStore({ pool: p, tableName: overrides.sessionsTable });
        throttleBackend = { type: "postgres", pool: p };
        if (session.cache) {
          const { CachedStore, PostgresInvalidationChannel } = await import("cloakroom/cached");
          // One NOTIFY channel per sessions table, so unrelated caches never flush each other.
          const channel = `${overrides.sessionsTable ?? "cloakroom_sessions"}_invalidation`;
          store = new CachedStore({ store, invalidation: new PostgresInvalidationChannel({ pool: p, channel }), ttl: session.cache.ttl, closeStore: true });
        }
        break;
      }
      case "redis": {
        const [{ RedisStore }, { Redis }] = await Promise.all([import("cloakroom/redis"), import("ioredis")]);
        // ioredis 6 backs off to 5 s between reconnections, and a command waits through up to two of them: during an
        // outage each request would hang ~10 s before its 503. Capped at 500 ms: a 503 within about a second, and
        // back within half a second of Redis. (duplicate(), used for the cache's subscriber, copies these options.)
        const retryStrategy = (times: number): number => Math.min(50 * 2 ** (times - 1), 500);
        const client = new Redis(session.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy });
        client.on("error", () => {});
        closers.push(() => void client.disconnect());
        store = new RedisStore({ client, prefix: `${prefix}sess:` });
        throttleBackend = { type: "redis", client };
        if (session.cache) {
          const { CachedStore, RedisInvalidationChannel } = await import("cloakroom/cached");
          // Subscribes on client.duplicate(); the channel name follows the key prefix, one per store.
          const invalidation = new RedisInvalidationChannel({ client, channel: `${prefix}sess:invalidation` });
          store = new CachedStore({ store, invalidation, ttl: session.cache.ttl, closeStore: true });
        }
        break;
      }
      case "memcached": {
        const { MemcachedStore, createMemcachedClient } = await import("cloakroom/memcached");
        const client = createMemcachedClient(session.memcachedUrl, { maxConnections: 5 });
        closers.push(() => client.shutdown());
        await probeMemcached(client, session.memcachedUrl);
        store = new MemcachedStore({ client, prefix: `${prefix}sess:` });
        throttleBackend = { type: "memcached", client };
        break;
      }
    }
    closers.unshift(() => store.close());
    // Backend failures of the throttle and the users repository are ServiceUnavailableErrors: 503 at the edge.
    const throttle = createLoginThrottle({
      backend: throttleBackend,
      perAccount: { points: config.loginMaxFailuresPerAccount, duration: Math.ceil(config.loginThrottleWindow / 1000) },
      perIp: { points: config.loginMaxFailuresPerIp, duration: Math.ceil(config.loginThrottleWindow / 1000) },
      keyPrefix: `${prefix}login`,
    });
    const mailLimits = createMailLimits({ backend: throttleBackend, config, keyPrefix: prefix });
    return {
      store,
      users,
      tokens,
      passkeys,
      throttle,
      mailLimits,
      async checkReady() {
        // A lookup of a key that cannot exist: a round trip to the store without writing anything.
        await Promise.all([store.get("readiness-probe"), users.ping()]);
      },
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

async function closeAll(closers: Array<() => Promise<void> | void>): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch {
      // Keep closing the rest: shutdown must release everything it can.
    }
  }
}

/**
 * Fail start-up at once when memcached does not answer (memcache-client connects lazily: without this the first
 * request would find out). The library's client set-up bounds the wait by its connect timeout (5 s).
 */
async function probeMemcached(client: MemcacheClient, servers: string): Promise<void> {
  try {
    await client.version();
  } catch (cause) {
    throw new Error(`Memcached at ${servers} is unreachable (MEMCACHED_URL)`, { cause });
  }
}
