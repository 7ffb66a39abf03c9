/**
 * The real stores the adapter suites run on, each opened fresh and removed afterwards, and a store whose server is
 * gone (a RedisStore on a port nothing listens on) for the fail-closed tests.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { MemoryStore } from "../../src/stores/memory.js";
import { PostgresStore } from "../../src/stores/postgres.js";
import { RedisStore } from "../../src/stores/redis.js";
import { SqliteStore } from "../../src/stores/sqlite.js";
import type { SessionStore } from "../../src/core/types.js";
import { DATABASE_URL, REDIS_URL, closedPort, postgresReachable, redisReachable, uniqueSuffix } from "../servers.js";

/** A store for one suite, and how to remove what it wrote. */
export interface OpenedStore {
  store: SessionStore;
  close(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Whether its server answers (skips outside CI, fails with CI=true: see servers.ts). */
  reachable(): Promise<boolean>;
  open(): Promise<OpenedStore>;
}

const run = uniqueSuffix();
let opened = 0;

/** A RedisStore on its own client and prefix (two stores on one prefix share sessions, as app instances do). */
export function openRedisStore(prefix = `cloakroom-test-adapters-${run}-${++opened}:`): OpenedStore {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = new RedisStore({ client, prefix });
  return {
    store,
    close: async () => {
      await store.clear();
      await store.close();
      await client.quit();
    },
  };
}

export const BACKENDS: Backend[] = [
  { name: "MemoryStore", reachable: async () => true, open: async () => ({ store: new MemoryStore(), close: async () => {} }) },
  {
    name: "SqliteStore",
    reachable: async () => true,
    open: async () => {
      const store = new SqliteStore({ path: ":memory:", sweepInterval: 0 });
      return { store, close: () => store.close() };
    },
  },
  { name: "RedisStore", reachable: redisReachable, open: async () => openRedisStore() },
  {
    name: "PostgresStore",
    reachable: postgresReachable,
    open: async () => {
      const schema = `cloakroom_test_adapters_${run}_${++opened}`;
      const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2, sweepInterval: 0 });
      return {
        store,
        close: async () => {
          await store.close();
          const admin = new pg.Client({ connectionString: DATABASE_URL });
          await admin.connect();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        },
      };
    },
  },
];

/** A RedisStore whose server is unreachable: every call rejects promptly, as a real outage does. */
export async function openDeadStore(): Promise<OpenedStore> {
  const client = new Redis({ host: "127.0.0.1", port: await closedPort(), maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  client.on("error", () => {}); // connection errors surface through the rejected commands
  return { store: new RedisStore({ client }), close: async () => client.disconnect() };
}

/** A MemoryStore that fails where it is told to: its synchronous read (peek), its writes, or has no peek at all. */
export class FaultyStore extends MemoryStore {
  failPeek = false;
  failWrites = false;
  noPeek = false;
  override peek(key: string): ReturnType<MemoryStore["peek"]> {
    if (this.failPeek) throw new Error("peek failed");
    return this.noPeek ? undefined : super.peek(key);
  }
  override async create(...args: Parameters<MemoryStore["create"]>): Promise<void> {
    if (this.failWrites) throw new Error("create failed");
    return super.create(...args);
  }
  override async patch(...args: Parameters<MemoryStore["patch"]>): Promise<boolean> {
    if (this.failWrites) throw new Error("patch failed");
    return super.patch(...args);
  }
}
