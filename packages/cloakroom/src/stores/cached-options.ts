/** CachedStore's options, their defaults and the checks that turn a bad one into a TypeError naming it. */
import { isSessionStore } from "../core/manager-helpers.js";
import type { BaseStoreOptions, SessionStore } from "../core/types.js";
import type { InvalidationChannel } from "./cached-channel.js";

/** Options of {@link CachedStore}. */
export interface CachedStoreOptions extends BaseStoreOptions {
  /** The shared store every instance reads and writes (RedisStore, PostgresStore, …). */
  store: SessionStore;
  /**
   * This instance's invalidation channel, on the same topic as every other instance caching the same shared store.
   * The CachedStore owns it: it subscribes at construction and closes it in {@link CachedStore.close}.
   */
  invalidation: InvalidationChannel;
  /**
   * Sessions kept in memory; the least recently used is dropped beyond that.
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * The longest an entry is served from memory (ms, measured with `now` from the start of the read that filled it).
   * The bound on staleness when an invalidation is lost without the channel noticing: keep it short.
   * @default 5_000
   */
  ttl?: number;
  /**
   * Also close `store` in {@link CachedStore.close}. Off by default: the shared store was passed in, so whoever
   * created it closes it (the same rule as for clients passed to the other stores).
   * @default false
   */
  closeStore?: boolean;
  /**
   * Called with errors that happen in the background, where no caller could receive a rejection: a channel that
   * refused the subscription (the cache then stays bypassed; every get reads through).
   * @default emits a process warning
   */
  onError?: (error: Error) => void;
}

export const DEFAULT_MAX_ENTRIES = 10_000;
export const DEFAULT_TTL = 5_000;

/** A channel feeds exactly one cache: a second subscriber on the same object would steal or duplicate its handlers. */
export const channelsInUse = new WeakSet<InvalidationChannel>();

const CHANNEL_METHODS = ["publish", "subscribe", "close"];

function hasMethods(value: unknown, methods: string[]): boolean {
  if (typeof value !== "object" || value === null) return false;
  return methods.every((method) => typeof (value as Record<string, unknown>)[method] === "function");
}

/** @throws {TypeError} naming the first bad option, or when the channel already feeds another cache */
export function validateOptions(options: CachedStoreOptions): void {
  const { store, invalidation, maxEntries, ttl, now, onError } = options ?? ({} as CachedStoreOptions);
  if (!isSessionStore(store)) {
    throw new TypeError("CachedStore: the store option must be a SessionStore (the shared store to cache)");
  }
  if (!hasMethods(invalidation, CHANNEL_METHODS)) {
    throw new TypeError("CachedStore: the invalidation option must be an InvalidationChannel (publish, subscribe, close)");
  }
  if (channelsInUse.has(invalidation)) {
    throw new TypeError("CachedStore: the invalidation option is already used by another CachedStore (one per cache)");
  }
  if (maxEntries !== undefined && !(Number.isSafeInteger(maxEntries) && maxEntries > 0)) {
    throw new TypeError(`CachedStore: the maxEntries option must be a positive integer (got ${String(maxEntries)})`);
  }
  if (ttl !== undefined && !(typeof ttl === "number" && Number.isFinite(ttl) && ttl > 0)) {
    // Infinity is refused on purpose: the ttl is the only bound when an invalidation is lost silently.
    throw new TypeError(`CachedStore: the ttl option must be a positive, finite number of ms (got ${String(ttl)})`);
  }
  if (now !== undefined && typeof now !== "function") {
    throw new TypeError("CachedStore: the now option must be a function returning epoch milliseconds");
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError("CachedStore: the onError option must be a function");
  }
}
