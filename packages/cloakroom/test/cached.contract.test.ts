/**
 * CachedStore passes the shared store contract over Redis and over PostgreSQL, where two handles are two CachedStore
 * instances (each with its own store and channel connections) on one shared store: the multi-instance case.
 */
import { runStoreContract } from "../src/testing/index.js";
import { describeOverPostgres, describeOverRedis } from "./cached-helpers.js";

describeOverRedis((backend) => {
  runStoreContract("CachedStore over Redis", {
    capabilities: { listByUser: true, nativeTtl: true, count: true },
    create: async ({ namespace, now }) => (await backend.open(namespace, { now })).store,
  });
});

describeOverPostgres((backend) => {
  runStoreContract("CachedStore over PostgreSQL", {
    capabilities: { listByUser: true, nativeTtl: false, count: true },
    create: async ({ namespace, now }) => (await backend.open(namespace, { now })).store,
  });
});
