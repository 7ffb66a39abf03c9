/**
 * Fill a store with N minimal sessions (BENCH_PREFILL), for the scale measurement: through the store's own API, or,
 * for RedisStore with BENCH_PREFILL_PIPELINE=1, as pipelined SETs of the string the store itself wrote for one
 * anonymous template session (the same format and size, at a fraction of the client CPU: 10 M sessions in minutes).
 */
import { randomBytes } from "node:crypto";
import { anonymousRecord, forEachConcurrent, minimalExpressSession, minimalRecord, newSessionId, newStoreKey } from "./fill.js";
import { REDIS_URL } from "./scenarios.js";

type CloakroomStore = { capabilities: object; create(key: string, record: object): Promise<void> };
type ExpressStore = { set(sid: string, session: object, callback: (error?: unknown) => void): void };

const DAY = 24 * 3_600_000;
const CHUNK = 10_000;

/** Copies of one anonymous session under fresh keys (43 base64url characters, like the manager's). */
async function pipelineRedisCopies(store: CloakroomStore, redisPrefix: string, count: number): Promise<void> {
  const now = Date.now();
  const template = newStoreKey();
  // A day of idle time: the fill and the rounds must not outlive the fillers.
  await store.create(template, anonymousRecord(now, DAY, 2 * DAY));
  const { Redis } = await import("ioredis");
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const value = await client.get(`${redisPrefix}s:${template}`);
    if (value === null) throw new Error("the template session was not stored as a string");
    const expireAt = String(now + DAY);
    for (let done = 1; done < count; done += CHUNK) {
      const size = Math.min(CHUNK, count - done);
      const random = randomBytes(32 * size);
      const pipeline = client.pipeline();
      for (let i = 0; i < size; i += 1) pipeline.set(`${redisPrefix}s:${random.subarray(32 * i, 32 * i + 32).toString("base64url")}`, value, "PXAT", expireAt);
      await pipeline.exec();
    }
  } finally {
    client.disconnect();
  }
}

export async function prefillStore(store: object, count: number, options: { redisPrefix?: string } = {}): Promise<void> {
  const now = Date.now();
  const started = performance.now();
  if ("capabilities" in store && options.redisPrefix !== undefined && process.env.BENCH_PREFILL_PIPELINE === "1") {
    await pipelineRedisCopies(store as CloakroomStore, options.redisPrefix, count);
  } else if ("capabilities" in store) {
    const s = store as CloakroomStore;
    await forEachConcurrent(count, 256, (i) => s.create(newStoreKey(), minimalRecord(`filler-${i}`, now)));
  } else {
    const s = store as ExpressStore;
    await forEachConcurrent(count, 256, (i) =>
      new Promise<void>((resolve, reject) => s.set(newSessionId(), minimalExpressSession(`filler-${i}`), (e) => (e ? reject(e) : resolve()))),
    );
  }
  console.error(`prefilled ${count} sessions in ${Math.round(performance.now() - started)} ms`);
}
