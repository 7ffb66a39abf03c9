/**
 * The SessionStore contract suite against LegacyStoreAdapter (any express-session store), with the capabilities the
 * adapter declares: over express-session's own MemoryStore, and over connect-redis on the real Redis.
 */
import { createRequire } from "node:module";
import { RedisStore as ConnectRedisStore } from "connect-redis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe } from "vitest";
import { LegacyStoreAdapter, type LegacyStore } from "../src/stores/legacy.js";
import { runStoreContract } from "../src/testing/index.js";
import { REDIS_URL, redisReachable, uniqueSuffix } from "./servers.js";

const require = createRequire(import.meta.url);
const expressSession = require("express-session") as { MemoryStore: new () => LegacyStore };

const TIMEOUTS = { idleTimeout: 30 * 60_000, absoluteTimeout: 24 * 3_600_000 };

// "Two handles on one namespace": two adapters over the same express-session store.
const memoryStores = new Map<string, LegacyStore>();
runStoreContract("LegacyStoreAdapter over express-session's MemoryStore", {
  capabilities: { listByUser: false, nativeTtl: true, count: true, wholeRecords: true },
  create({ namespace, now }) {
    let store = memoryStores.get(namespace);
    if (store === undefined) {
      store = new expressSession.MemoryStore();
      memoryStores.set(namespace, store);
    }
    return new LegacyStoreAdapter(store, { ...TIMEOUTS, now });
  },
});

const redisUp = await redisReachable();
describe.skipIf(!redisUp)("connect-redis on the real Redis", () => {
  const client = createClient({ url: REDIS_URL });
  const run = uniqueSuffix();
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
  });
  runStoreContract("LegacyStoreAdapter over connect-redis", {
    capabilities: { listByUser: false, nativeTtl: true, count: true, wholeRecords: true },
    create: ({ namespace, now }) =>
      new LegacyStoreAdapter(new ConnectRedisStore({ client, prefix: `legacy_contract_${run}_${namespace}:` }) as unknown as LegacyStore, { ...TIMEOUTS, now }),
  });
});
