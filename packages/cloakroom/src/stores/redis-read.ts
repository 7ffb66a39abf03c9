/**
 * RedisStore's reads of one record: a GET, decoded by redis-codec.ts, and the legacy hash of redis-legacy.ts when the
 * GET answers WRONGTYPE. On the hot path (`get`) a read is the ioredis command's promise and one `.then` whose two
 * handlers are made once per store: no `async` wrapper, no closure and no further promise per read (each was an
 * allocation on every request: bench/README.md, "RedisStore read path at steady state (session 8)").
 */
import type { Cluster, Redis } from "ioredis";
import { expiresAtOf, type SessionRecord } from "../core/types.js";
import { decodeRecord } from "./redis-codec.js";
import { isWrongType, readLegacyRecord } from "./redis-legacy.js";
import { storeError } from "./store-error.js";

/**
 * The key of the command a Redis error reply answered: ioredis sets `command` (`{ name, args }`) on every error reply
 * (its README, "Error Handling"), so the WRONGTYPE fallback finds its key there instead of in a closure per read.
 */
function keyOfFailedCommand(error: unknown): string | undefined {
  const key = (error as { command?: { args?: unknown[] } } | null)?.command?.args?.[0];
  return typeof key === "string" ? key : undefined;
}

/** A failed read, as every path of `live` reports it: the store's error, the driver's (or the decoder's) error as `cause`. */
function getFailed(error: unknown): never {
  throw storeError("RedisStore", "get", error);
}

/** One record's reads for {@link RedisStore}: `live` for get(), `any` for listByUser. */
export class RecordReader {
  /**
   * @param client the store's ioredis client
   * @param now the store's clock
   * @param beforeCommand called before each GET (the store flushes pending creates and corks the socket there)
   */
  constructor(
    private readonly client: Redis | Cluster,
    private readonly now: () => number,
    private readonly beforeCommand: () => void,
  ) {}

  /**
   * The record at a Redis key when it is live by the store's clock, else `null`; rejects with the store's error
   * (`RedisStore.get failed: …`, the driver's error as `cause`).
   */
  live(sessionKey: string): Promise<SessionRecord | null> {
    try {
      this.beforeCommand();
      return this.client.get(sessionKey).then(this.liveOfValue, this.liveOfFailedGet);
    } catch (error) {
      return Promise.reject(error).catch(getFailed);
    }
  }

  /** The record at a Redis key, of either format, expired or not; `null` when missing. Rejects with the driver's error. */
  any(sessionKey: string): Promise<SessionRecord | null> {
    this.beforeCommand();
    return this.client.get(sessionKey).then(this.recordOfValue, this.legacyOnWrongType);
  }

  private readonly recordOfValue = (value: string | null): SessionRecord | null => (value === null ? null : decodeRecord(value));

  private readonly legacyOnWrongType = (error: unknown): Promise<SessionRecord | null> => {
    const key = keyOfFailedCommand(error);
    return key !== undefined && isWrongType(error) ? readLegacyRecord(this.client, key) : Promise.reject(error);
  };

  private readonly liveOrNull = (record: SessionRecord | null): SessionRecord | null =>
    record === null || expiresAtOf(record) <= this.now() ? null : record;

  private readonly liveOfValue = (value: string | null): SessionRecord | null => {
    try {
      return this.liveOrNull(this.recordOfValue(value));
    } catch (error) {
      return getFailed(error);
    }
  };

  private readonly liveOfFailedGet = (error: unknown): Promise<SessionRecord | null> =>
    this.legacyOnWrongType(error).then(this.liveOrNull).catch(getFailed);
}
