/**
 * RedisStore.get()'s failures on a real Redis, now that a read is one `.then` without the guardStore wrapper
 * (stores/redis-read.ts): every one still rejects with the store's error, the driver's or the decoder's as `cause`;
 * once per client library (redis-clients.ts).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreOperationError } from "../src/stores/store-error.js";
import { RedisStore } from "../src/stores/redis.js";
import { commandsOf } from "../src/stores/redis-client.js";
import { RecordReader } from "../src/stores/redis-read.js";
import { storeClients, type StoreClient } from "./redis-clients.js";
import { REDIS_URL, redisReachable, uniqueSuffix } from "./servers.js";

const reachable = await redisReachable();
const prefix = `cloakroom:test:${uniqueSuffix()}:read:`;

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("resolved");
    },
    (reason: unknown) => reason as Error,
  );
}

describe.skipIf(!reachable).each(storeClients)("RedisStore.get() when the key does not hold a record ($name)", (library) => {
  let admin: Redis;
  let client: StoreClient;
  let store: RedisStore;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
    client = await library.connect(REDIS_URL);
    store = new RedisStore({ client: client.client, prefix });
  });

  afterAll(async () => {
    await store.clear();
    await Promise.all([client.quit(), admin.quit()]);
  });

  it("rejects with the store's error when the string is not a session record", async () => {
    await admin.set(`${prefix}s:garbage`, "not a record");
    const error = await rejectionOf(store.get("garbage"));
    expect(error).toBeInstanceOf(StoreOperationError);
    expect(error.message).toBe("RedisStore.get failed: the stored value is not a session record");
  });

  it("rejects with the store's error, Redis's as cause, when the key is neither a string nor a legacy hash", async () => {
    await admin.rpush(`${prefix}s:list`, "a");
    const error = await rejectionOf(store.get("list"));
    expect(error).toBeInstanceOf(StoreOperationError);
    expect(error.message).toMatch(/^RedisStore\.get failed: WRONGTYPE/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("rejects with the store's error when a hash at the key is not a legacy session record", async () => {
    await admin.hset(`${prefix}s:hash`, "x", "1");
    const error = await rejectionOf(store.get("hash"));
    expect(error).toBeInstanceOf(StoreOperationError);
    expect(error.message).toBe("RedisStore.get failed: the stored hash is not a session record");
  });

  it("rejects, never throws, with the store's error when the command cannot even be sent", async () => {
    const cause = new Error("the write batch could not be flushed");
    const reader = new RecordReader(commandsOf(client.client), Date.now, () => {
      throw cause;
    });
    let read: Promise<unknown> | undefined;
    expect(() => (read = reader.live(`${prefix}s:any`))).not.toThrow();
    const error = await rejectionOf(read!);
    expect(error).toBeInstanceOf(StoreOperationError);
    expect(error.message).toBe("RedisStore.get failed: the write batch could not be flushed");
    expect(error.cause).toBe(cause);
  });
});
