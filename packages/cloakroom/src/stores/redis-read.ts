/**
 * RedisStore's reads of one record: a GET, decoded by redis-codec.ts, and the legacy hash of redis-legacy.ts when the
 * GET answers WRONGTYPE. On the hot path (`get`) a read is the client's command promise (redis-client.ts) and one `.then`
 * whose two handlers are made once per store: no `async` wrapper, no closure and no further promise per read (each was an
 * allocation on every request: bench/README.md, "RedisStore read path at steady state (session 8)").
 */
import { expiresAtOf, type SessionRecord } from "../core/types.js";
import type { RedisCommands } from "./redis-client.js";
import { decodeRecord } from "./redis-codec.js";
import { isWrongType, readLegacyRecord } from "./redis-legacy.js";
import { storeError } from "./store-error.js";

/** A failed read, as every path of `live` reports it: the store's error, the driver's (or the decoder's) error as `cause`. */
function getFailed(error: unknown): never {
  throw storeError("RedisStore", "get", error);
}

/** One record's reads for {@link RedisStore}: `live` for get(), `any` for listByUser. */
export class RecordReader {
  /**
   * @param commands the store's client (redis-client.ts)
   * @param now the store's clock
   * @param beforeCommand called before each GET (the store flushes pending creates and corks the socket there)
   */
  constructor(
    private readonly commands: RedisCommands,
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
      return this.commands.get(sessionKey).then(this.liveOfValue, this.liveOfFailedGet);
    } catch (error) {
      return Promise.reject(error).catch(getFailed);
    }
  }

  /** The record at a Redis key, of either format, expired or not; `null` when missing. Rejects with the driver's error. */
  any(sessionKey: string): Promise<SessionRecord | null> {
    this.beforeCommand();
    return this.commands.get(sessionKey).then(this.recordOfValue, this.legacyOnWrongType);
  }

  private readonly recordOfValue = (value: string | null): SessionRecord | null => (value === null ? null : decodeRecord(value));

  private readonly legacyOnWrongType = (error: unknown): Promise<SessionRecord | null> => {
    // The key from the error (ioredis keeps the command on it): no closure per read for the rare fallback.
    const key = this.commands.keyOfFailedGet(error);
    return key !== undefined && isWrongType(error) ? readLegacyRecord(this.commands, key) : Promise.reject(error);
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
