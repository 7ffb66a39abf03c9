/**
 * CachedStore's configuration and its failures of set-up and publishing, against the real servers: options refused
 * with TypeErrors naming them, a channel shared by two stores, a channel that refuses to subscribe, a publish that
 * fails after the write was applied.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { CachedStore, PostgresInvalidationChannel, RedisInvalidationChannel } from "../src/stores/cached.js";
import { PostgresStore } from "../src/stores/postgres.js";
import { RedisStore } from "../src/stores/redis.js";
import { InstrumentedStore, describeOverPostgres, describeOverRedis, newKey, recordAt, run, waitUntil } from "./cached-helpers.js";
import { DATABASE_URL, REDIS_URL } from "./servers.js";

describeOverRedis((_backend, { Redis, Cluster }) => {
  describe("configuration", () => {
    it("rejects invalid options with TypeErrors naming them", async () => {
      const client = new Redis(REDIS_URL, { lazyConnect: true });
      const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }], { lazyConnect: true });
      try {
        const store = new RedisStore({ client, prefix: `cloakroom:test:${run}:config:` });
        const channel = (): RedisInvalidationChannel => new RedisInvalidationChannel({ client });
        expect(() => new CachedStore({ invalidation: channel() } as never)).toThrow(/store option/);
        expect(() => new CachedStore({ store, invalidation: {} as never })).toThrow(/invalidation option/);
        expect(() => new CachedStore({ store, invalidation: channel(), maxEntries: 0 })).toThrow(/maxEntries option/);
        expect(() => new CachedStore({ store, invalidation: channel(), ttl: Infinity })).toThrow(/ttl option/);
        expect(() => new CachedStore({ store, invalidation: channel(), ttl: 0 })).toThrow(/ttl option/);
        expect(() => new CachedStore({ store, invalidation: channel(), now: 1 as never })).toThrow(/now option/);
        expect(() => new CachedStore({ store, invalidation: channel(), maxEntries: 1.5 })).toThrow(TypeError);

        expect(() => new RedisInvalidationChannel({} as never)).toThrow(/client option/);
        expect(() => new RedisInvalidationChannel({ client, channel: "" })).toThrow(/channel option/);
        expect(() => new RedisInvalidationChannel({ client, subscriber: client })).toThrow(/subscriber option/);
        expect(() => new RedisInvalidationChannel({ client: cluster })).toThrow(/Cluster client, pass the subscriber option/);

        expect(() => new PostgresInvalidationChannel({})).toThrow(/pool option or the connectionString option/);
        expect(() => new PostgresInvalidationChannel({ connectionString: DATABASE_URL, channel: "c".repeat(64) })).toThrow(/channel option/);
        expect(() => new PostgresInvalidationChannel({ connectionString: DATABASE_URL, channel: "a\0b" })).toThrow(TypeError);
      } finally {
        client.disconnect();
        cluster.disconnect();
      }
    });

    it("refuses a channel already used by another CachedStore", async () => {
      const client = new Redis(REDIS_URL);
      const channel = new RedisInvalidationChannel({ client, channel: `cloakroom:test:${run}:shared-channel` });
      const store = new RedisStore({ client, prefix: `cloakroom:test:${run}:shared-channel:` });
      const first = new CachedStore({ store, invalidation: channel });
      try {
        expect(() => new CachedStore({ store, invalidation: channel })).toThrow(/already used by another CachedStore/);
      } finally {
        await first.close();
        await client.quit();
      }
    });

    it("a channel that refuses to subscribe leaves the cache bypassed and reports it through onError", async () => {
      const client = new Redis(REDIS_URL);
      const channel = new RedisInvalidationChannel({ client, channel: `cloakroom:test:${run}:refused` });
      await channel.close();
      const errors: Error[] = [];
      const shared = new InstrumentedStore(new RedisStore({ client, prefix: `cloakroom:test:${run}:refused:` }));
      const store = new CachedStore({ store: shared, invalidation: channel, onError: (error) => errors.push(error) });
      try {
        await waitUntil(() => errors.length > 0, "onError is called", 1_000);
        expect(errors[0]?.message).toMatch(/refused to subscribe/);
        expect((errors[0]?.cause as Error).message).toMatch(/subscribe after close/);
        const key = newKey();
        await store.create(key, recordAt(Date.now())).catch(() => {}); // its publish fails on the closed channel
        expect(store.caching).toBe(false);
        await store.get(key);
        await store.get(key);
        expect(shared.gets).toBe(2);
        await shared.destroy(key);
      } finally {
        await store.close();
        await client.quit();
      }
    });
  });
});

describeOverPostgres((_backend, schema) => {
  it("a publish failure rejects the write, saying the write itself was applied", async () => {
    const tableName = `publish_failure_${process.pid}`;
    const shared = new InstrumentedStore(new PostgresStore({ connectionString: DATABASE_URL, schema, tableName, poolSize: 1, sweepInterval: 0 }));
    const channelPool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const channel = new PostgresInvalidationChannel({ pool: channelPool, channel: `inv_${tableName}` });
    const store = new CachedStore({ store: shared, invalidation: channel, closeStore: true });
    try {
      await waitUntil(() => store.caching, "the channel is subscribed");
      const key = newKey();
      await channelPool.end(); // the publishing pool is gone: NOTIFY cannot be sent
      const error = await store.create(key, recordAt(Date.now())).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^CachedStore: create was applied to the shared store, but publishing/);
      expect(((error as Error).cause as Error).message).toMatch(/^PostgresInvalidationChannel: publish failed/);
      expect(await shared.get(key)).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
