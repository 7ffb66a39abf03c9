/**
 * RedisInvalidationChannel: CachedStore invalidations over Redis pub/sub.
 *
 * Pub/sub delivers a message only to connections subscribed at the moment it is published, and says nothing when a
 * connection misses one. So the channel's state follows the subscriber connection itself: it is "connected" only
 * from the SUBSCRIBE reply on a ready connection until that connection reports "close", "end" or "error"; ioredis
 * then reconnects (its retryStrategy), and on "ready" the channel subscribes again before reporting it is back.
 *
 * Only type imports from ioredis: `cloakroom/cached` must load for PostgreSQL users who do not have ioredis installed.
 */
import type { Cluster, Redis } from "ioredis";
import { decodeInvalidation, type Invalidation, type InvalidationChannel } from "./cached-channel.js";
import { restoreFastStringMethods } from "./fast-strings.js";

/** Options of {@link RedisInvalidationChannel}. */
export interface RedisInvalidationChannelOptions {
  /**
   * The client that publishes (any ioredis `Redis` or `Cluster`; PUBLISH reaches every node of a Cluster). Typically
   * the same client as the RedisStore's. Owned by the caller: never closed by the channel.
   */
  client: Redis | Cluster;
  /**
   * A dedicated standalone connection to subscribe on (a subscribed connection can run no other commands). When you
   * pass it you own it: close() only unsubscribes. Required when `client` is a Cluster: pass a connection to any one
   * node (PUBLISH is broadcast to every node); while that node is down the cache is bypassed, as it should be.
   * @default client.duplicate(), disconnected by close()
   */
  subscriber?: Redis;
  /**
   * The pub/sub channel. Every instance caching the same shared store must use the same one; use one per store
   * (e.g. derived from the RedisStore prefix) so that unrelated caches do not flush each other.
   * @default "cloakroom:invalidation"
   */
  channel?: string;
  /**
   * Called with the subscriber connection's errors (a refused connection, a failed SUBSCRIBE). The channel handles them
   * (the cache is bypassed until it is back), so this is for logging.
   * @default ignore
   */
  onError?: (error: Error) => void;
}

type Handlers = { onMessage: (message: Invalidation) => void; onState: (connected: boolean) => void };
/** What EventEmitter.on and removeListener accept (any arguments). */
type Listener = Parameters<Redis["removeListener"]>[1];

function isCluster(client: Redis | Cluster): boolean {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * An {@link InvalidationChannel} on Redis pub/sub (ioredis ≥ 5).
 *
 * @example
 * import { Redis } from "ioredis";
 * import { RedisStore } from "cloakroom/redis";
 * import { CachedStore, RedisInvalidationChannel } from "cloakroom/cached";
 *
 * const redis = new Redis(process.env.REDIS_URL);
 * const store = new CachedStore({
 *   store: new RedisStore({ client: redis, prefix: "app:sessions:" }),
 *   invalidation: new RedisInvalidationChannel({ client: redis, channel: "app:sessions:invalidation" }),
 * });
 */
export class RedisInvalidationChannel implements InvalidationChannel {
  readonly #client: Redis | Cluster;
  readonly #channel: string;
  readonly #onError: (error: Error) => void;
  #subscriber: Redis | undefined;
  readonly #ownsSubscriber: boolean;
  #handlers: Handlers | undefined;
  /** The last state reported, so "close" followed by "end" is reported once. */
  #reported: boolean | undefined;
  /**
   * Bumped by every "ready" and every loss: a SUBSCRIBE reply that arrives after the connection it was sent on was lost
   * (or replaced) must not report the channel as connected.
   */
  #connection = 0;
  #closed = false;
  readonly #listeners: [event: string, listener: Listener][] = [];
  #firstState: (() => void) | undefined;

  /**
   * @param options see {@link RedisInvalidationChannelOptions}
   * @throws {TypeError} when an option is invalid (the message names it); nothing is connected then
   */
  constructor(options: RedisInvalidationChannelOptions) {
    const { client, subscriber, channel = "cloakroom:invalidation", onError } =
      options ?? ({} as RedisInvalidationChannelOptions);
    if (typeof client !== "object" || client === null || typeof client.publish !== "function") {
      throw new TypeError("RedisInvalidationChannel: the client option must be an ioredis Redis or Cluster instance");
    }
    const isStandalone = (value: unknown): boolean =>
      typeof value === "object" && value !== null && typeof (value as Redis).subscribe === "function" && !isCluster(value as Redis);
    if (subscriber !== undefined && !isStandalone(subscriber)) {
      throw new TypeError("RedisInvalidationChannel: the subscriber option must be a standalone ioredis Redis instance");
    }
    if (subscriber === undefined && isCluster(client)) {
      // A Cluster's internal subscriber moves between nodes without telling anyone, so a lost subscription would go
      // unnoticed; a standalone connection to one node reports every loss.
      throw new TypeError(
        "RedisInvalidationChannel: with a Cluster client, pass the subscriber option (a Redis connection to one node)",
      );
    }
    if (subscriber !== undefined && subscriber === client) {
      throw new TypeError("RedisInvalidationChannel: the subscriber option must be a dedicated connection, not the client");
    }
    if (typeof channel !== "string" || channel.length === 0) {
      throw new TypeError("RedisInvalidationChannel: the channel option must be a non-empty string");
    }
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError("RedisInvalidationChannel: the onError option must be a function");
    }
    this.#client = client;
    this.#subscriber = subscriber;
    this.#ownsSubscriber = subscriber === undefined;
    this.#channel = channel;
    this.#onError = onError ?? (() => {});
    // Loading ioredis slowed every string method call in the process (fast-strings.ts): undone here.
    restoreFastStringMethods();
  }

  /**
   * PUBLISH the message as JSON.
   * @throws {Error} (as a rejection) with the client's error as `cause`, or when the channel is closed
   */
  async publish(message: Invalidation): Promise<void> {
    if (this.#closed) throw new Error("RedisInvalidationChannel: publish after close()");
    try {
      await this.#client.publish(this.#channel, JSON.stringify(message));
    } catch (error) {
      throw new Error("RedisInvalidationChannel: publish failed", { cause: error });
    }
  }

  /**
   * Subscribe (on `client.duplicate()` unless a subscriber was given) and follow the connection's state.
   * Resolves once the first state is known: subscribed, or the first connection attempt failed.
   * @throws {Error} (as a rejection) when called twice or after close()
   */
  async subscribe(onMessage: (message: Invalidation) => void, onState: (connected: boolean) => void): Promise<void> {
    if (this.#closed) throw new Error("RedisInvalidationChannel: subscribe after close()");
    if (this.#handlers !== undefined) {
      throw new Error("RedisInvalidationChannel: subscribe() was already called (one channel per CachedStore)");
    }
    this.#handlers = { onMessage, onState };
    // Created only now, so a channel that is never subscribed opens no connection.
    const subscriber = (this.#subscriber ??= (this.#client as Redis).duplicate());
    const firstState = new Promise<void>((resolve) => (this.#firstState = resolve));

    this.#listen(subscriber, "message", (channel: string, payload: string) => {
      if (channel === this.#channel && !this.#closed) onMessage(decodeInvalidation(payload));
    });
    this.#listen(subscriber, "ready", () => void this.#subscribeOn(subscriber));
    this.#listen(subscriber, "close", () => this.#lost());
    this.#listen(subscriber, "end", () => this.#lost());
    this.#listen(subscriber, "error", (error: Error) => {
      this.#onError(error);
      // ioredis follows a connection error with "close" and a reconnect; reporting the loss now is merely sooner.
      this.#lost();
    });

    if (subscriber.status === "ready") void this.#subscribeOn(subscriber);
    else if (subscriber.status === "wait") subscriber.connect().catch(() => {}); // lazyConnect; failures come as events
    else if (subscriber.status === "end") this.#lost(); // a closed connection the caller will never reopen
    await firstState;
  }

  /**
   * Stop listening: unsubscribe a caller's subscriber (left connected), or disconnect the channel's own duplicate.
   * Idempotent. The publishing client is never closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection += 1;
    this.#firstState?.();
    const subscriber = this.#subscriber;
    if (subscriber === undefined) return;
    for (const [event, listener] of this.#listeners) subscriber.removeListener(event, listener);
    this.#listeners.length = 0;
    if (this.#ownsSubscriber) {
      subscriber.disconnect();
    } else if (subscriber.status === "ready") {
      await subscriber.unsubscribe(this.#channel).catch(() => {}); // the caller's connection: leave it usable
    }
  }

  #listen(subscriber: Redis, event: string, listener: Listener): void {
    subscriber.on(event, listener);
    this.#listeners.push([event, listener]);
  }

  /** SUBSCRIBE on the connection that just became ready; report "connected" only if it is still that connection. */
  async #subscribeOn(subscriber: Redis): Promise<void> {
    const connection = ++this.#connection;
    try {
      // Idempotent: ioredis's autoResubscribe may send the same SUBSCRIBE; Redis keeps one subscription either way.
      await subscriber.subscribe(this.#channel);
    } catch (error) {
      if (connection !== this.#connection) return; // the connection was lost meanwhile, which was reported
      this.#onError(error instanceof Error ? error : new Error(String(error)));
      this.#report(false);
      return;
    }
    if (connection === this.#connection && !this.#closed) this.#report(true);
  }

  #lost(): void {
    if (this.#closed) return;
    this.#connection += 1;
    this.#report(false);
  }

  #report(connected: boolean): void {
    const firstState = this.#firstState;
    this.#firstState = undefined;
    firstState?.();
    if (this.#reported === connected) return;
    this.#reported = connected;
    this.#handlers?.onState(connected);
  }
}
