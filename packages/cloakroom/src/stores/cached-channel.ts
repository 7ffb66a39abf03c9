/**
 * The wire side of CachedStore: the invalidation messages instances exchange and the channel contract that carries
 * them (implemented by cached-redis.ts and cached-postgres.ts).
 */

/**
 * One invalidation message. `origin` identifies the {@link CachedStore} that published it: an instance ignores its own
 * messages, because it applied them locally before publishing (and re-applying them would only drop an entry it just
 * filled). A message of an unknown shape is treated as `{ type: "all" }`, on the safe side.
 */
export type Invalidation =
  /** One session changed or disappeared. */
  | { type: "key"; key: string; origin: string }
  /** Every session of one user disappeared (log out everywhere, password change). */
  | { type: "user"; userId: string; origin: string }
  /** Every session may have changed (clear(), or a message too large for the transport). */
  | { type: "all"; origin: string };

/**
 * How invalidations travel between instances. One channel serves one {@link CachedStore}, which calls `subscribe` once
 * and `close` when it closes. Implementations: {@link RedisInvalidationChannel}, {@link PostgresInvalidationChannel}.
 */
export interface InvalidationChannel {
  /**
   * Send `message` to every instance subscribed to this channel (including the sender's own subscription).
   * @throws (as a rejection) when the message could not be handed to the transport
   */
  publish(message: Invalidation): Promise<void>;
  /**
   * Start receiving. `onState(true)` means "subscribed: every message published from now on will be delivered";
   * `onState(false)` means messages may be lost until the next `onState(true)`. Implementations reconnect by
   * themselves.
   * Resolves once the first connection attempt has settled (either way: its outcome is reported through `onState`).
   * @throws (as a rejection) when called twice or after close()
   */
  subscribe(onMessage: (message: Invalidation) => void, onState: (connected: boolean) => void): Promise<void>;
  /** Stop receiving and release the connections the channel opened itself. */
  close(): Promise<void>;
}

/** An invalidation as applied locally (the wire message without its origin). */
export type Target = { type: "key"; key: string } | { type: "user"; userId: string } | { type: "all" };

/** Read a message from the wire defensively: anything unrecognised invalidates everything. */
export function targetOf(message: unknown): Target {
  if (typeof message === "object" && message !== null) {
    const { type, key, userId } = message as Record<string, unknown>;
    if (type === "key" && typeof key === "string") return { type, key };
    if (type === "user" && typeof userId === "string") return { type, userId };
  }
  return { type: "all" };
}

/** Parse one payload off the wire; anything that is not JSON invalidates everything ({@link targetOf} checks the shape). */
export function decodeInvalidation(payload: string | undefined): Invalidation {
  try {
    return JSON.parse(payload ?? "") as Invalidation;
  } catch {
    return { type: "all", origin: "" };
  }
}
