/**
 * PostgresInvalidationChannel: CachedStore invalidations over PostgreSQL LISTEN/NOTIFY.
 *
 * NOTIFY reaches only sessions that are LISTENing when it commits; a listener that reconnects has missed whatever was
 * sent in between, silently. So the listener is a dedicated connection whose state is the channel's state: it is
 * "connected" from a successful LISTEN until the connection reports "error" or "end"; it is then replaced, with
 * exponential backoff, and reported connected again only once LISTEN has succeeded on the new connection.
 * Publishing is `SELECT pg_notify($1, $2)` on a pool, in autocommit, so it is delivered at once.
 *
 * `pg` is loaded with a dynamic import on first use: `cloakroom/cached` must load for Redis users who do not have pg
 * installed.
 */
import type pg from "pg";
import { decodeInvalidation, type Invalidation, type InvalidationChannel } from "./cached-channel.js";

/** Options of {@link PostgresInvalidationChannel}. Pass `pool`, `connectionString`, or both. */
export interface PostgresInvalidationChannelOptions {
  /**
   * A pool to publish through. Yours: never ended by the channel. Without `connectionString`, the listener connects
   * with this pool's settings.
   */
  pool?: pg.Pool;
  /**
   * A `postgres://` URL for the listener (and for publishing, through a small pool of the channel's own, when no `pool`
   * is given). LISTEN needs a session-level connection: when `pool` goes through a transaction-mode pooler (PgBouncer),
   * point this at the server or at a session-mode pooler.
   */
  connectionString?: string;
  /**
   * The NOTIFY channel (1 to 63 bytes, any characters; it is quoted). Every instance caching the same shared store
   * must use the same one; use one per table so unrelated caches do not flush each other.
   * @default "cloakroom_invalidation"
   */
  channel?: string;
  /**
   * Milliseconds to wait before the `attempt`-th reconnection of the listener (from 1). While it waits the cache is
   * bypassed, so short delays matter more than politeness here.
   * @default attempt => min(100 · 2^(attempt−1), 5000), with ±20 % jitter
   */
  reconnectDelay?: (attempt: number) => number;
  /**
   * Called with the listener's connection errors. The channel handles them (the cache is bypassed until LISTEN
   * succeeds again), so this is for logging.
   * @default ignore
   */
  onError?: (error: Error) => void;
}

type Handlers = { onMessage: (message: Invalidation) => void; onState: (connected: boolean) => void };
type Driver = typeof pg;

/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7999;
/** NAMEDATALEN − 1: LISTEN would silently truncate a longer name, and pg_notify would then not match it. */
const MAX_CHANNEL_BYTES = 63;
/** Timeouts for the channel's own connections, so a lost server cannot hang a publish or a reconnect. */
const CONNECTION_TIMEOUT = 5_000;
const STATEMENT_TIMEOUT = 5_000;

let driver: Promise<Driver> | undefined;

function loadDriver(): Promise<Driver> {
  // pg is CommonJS: its ESM wrapper (or Node's interop) puts the module object on `default`.
  driver ??= import("pg").then((module) => (module as { default?: Driver }).default ?? (module as unknown as Driver));
  return driver;
}

function defaultReconnectDelay(attempt: number): number {
  const base = Math.min(100 * 2 ** (attempt - 1), 5_000);
  return Math.round(base * (0.8 + Math.random() * 0.4)); // jitter: instances that lost the server together spread out
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * An {@link InvalidationChannel} on PostgreSQL LISTEN/NOTIFY (`pg` ≥ 8).
 *
 * Messages of 8000 bytes or more (a key or user id of several kB, which the manager never produces) are sent as
 * `{ type: "all" }` instead: every instance drops its whole cache, which is correct, only slower.
 *
 * @example
 * import { PostgresStore } from "cloakroom/postgres";
 * import { CachedStore, PostgresInvalidationChannel } from "cloakroom/cached";
 *
 * const url = process.env.DATABASE_URL;
 * const store = new CachedStore({
 *   store: new PostgresStore({ connectionString: url }),
 *   invalidation: new PostgresInvalidationChannel({ connectionString: url }),
 * });
 */
export class PostgresInvalidationChannel implements InvalidationChannel {
  readonly #callerPool: pg.Pool | undefined;
  readonly #connectionString: string | undefined;
  readonly #channel: string;
  readonly #reconnectDelay: (attempt: number) => number;
  readonly #onError: (error: Error) => void;
  #ownPool: pg.Pool | undefined;
  #handlers: Handlers | undefined;
  /** The current listener connection (connecting or listening); any other client's events are stale and ignored. */
  #listener: pg.Client | undefined;
  #reported: boolean | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param options see {@link PostgresInvalidationChannelOptions}
   * @throws {TypeError} when an option is invalid (the message names it); nothing is connected then
   */
  constructor(options: PostgresInvalidationChannelOptions) {
    const { pool, connectionString, channel = "cloakroom_invalidation", reconnectDelay, onError } =
      options ?? ({} as PostgresInvalidationChannelOptions);
    if (pool !== undefined && (typeof pool !== "object" || pool === null || typeof pool.query !== "function")) {
      throw new TypeError("PostgresInvalidationChannel: the pool option must be a pg.Pool");
    }
    if (connectionString !== undefined && (typeof connectionString !== "string" || connectionString.length === 0)) {
      throw new TypeError("PostgresInvalidationChannel: the connectionString option must be a non-empty string");
    }
    if (pool === undefined && connectionString === undefined) {
      throw new TypeError("PostgresInvalidationChannel: pass the pool option or the connectionString option");
    }
    const validChannel = typeof channel === "string" && channel.length > 0 && !channel.includes("\0");
    if (!validChannel || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
      throw new TypeError(`PostgresInvalidationChannel: the channel option must be 1 to ${MAX_CHANNEL_BYTES} bytes without NUL`);
    }
    if (reconnectDelay !== undefined && typeof reconnectDelay !== "function") {
      throw new TypeError("PostgresInvalidationChannel: the reconnectDelay option must be a function (attempt) => ms");
    }
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError("PostgresInvalidationChannel: the onError option must be a function");
    }
    this.#callerPool = pool;
    this.#connectionString = connectionString;
    this.#channel = channel;
    this.#reconnectDelay = reconnectDelay ?? defaultReconnectDelay;
    this.#onError = onError ?? (() => {});
  }

  /**
   * NOTIFY every listener of the channel (`pg_notify`, autocommit). A payload of 8000 bytes or more is replaced by
   * `{ type: "all" }`.
   * @throws {Error} (as a rejection) with the driver's error as `cause`, or when the channel is closed
   */
  async publish(message: Invalidation): Promise<void> {
    if (this.#closed) throw new Error("PostgresInvalidationChannel: publish after close()");
    let payload = JSON.stringify(message); // escapes NUL and lone surrogates: always valid text for PostgreSQL
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      payload = JSON.stringify({ type: "all", origin: message.origin } satisfies Invalidation);
    }
    try {
      const pool = await this.#publisher();
      await pool.query("SELECT pg_notify($1, $2)", [this.#channel, payload]);
    } catch (error) {
      throw new Error("PostgresInvalidationChannel: publish failed", { cause: error });
    }
  }

  /**
   * Open the listener connection and LISTEN; reconnect with backoff whenever it is lost.
   * Resolves once the first attempt has settled (subscribed, or failed and retrying).
   * @throws {Error} (as a rejection) when called twice, after close(), or when the `pg` module cannot be loaded
   */
  async subscribe(onMessage: (message: Invalidation) => void, onState: (connected: boolean) => void): Promise<void> {
    if (this.#closed) throw new Error("PostgresInvalidationChannel: subscribe after close()");
    if (this.#handlers !== undefined) {
      throw new Error("PostgresInvalidationChannel: subscribe() was already called (one channel per CachedStore)");
    }
    this.#handlers = { onMessage, onState };
    await this.#connect(await loadDriver());
  }

  /** Stop listening and end the channel's own connections (never a pool passed in). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const listener = this.#listener;
    this.#listener = undefined;
    await Promise.all([listener?.end().catch(() => {}), this.#ownPool?.end().catch(() => {})]);
  }

  async #publisher(): Promise<pg.Pool> {
    if (this.#callerPool !== undefined) return this.#callerPool;
    const { Pool } = await loadDriver();
    if (this.#ownPool === undefined) {
      this.#ownPool = new Pool({
        connectionString: this.#connectionString,
        max: 2,
        connectionTimeoutMillis: CONNECTION_TIMEOUT,
        statement_timeout: STATEMENT_TIMEOUT,
        query_timeout: STATEMENT_TIMEOUT + 1_000,
      });
      // An idle connection that dies is dropped by the pool; without a listener its 'error' would crash the process.
      this.#ownPool.on("error", () => {});
    }
    return this.#ownPool;
  }

  #listenerConfig(): pg.ClientConfig {
    const base: pg.ClientConfig =
      this.#connectionString !== undefined
        ? { connectionString: this.#connectionString, connectionTimeoutMillis: CONNECTION_TIMEOUT }
        : // pg-pool stores the password as a non-enumerable property (to keep it out of logs): copy it by name.
          { ...this.#callerPool!.options, password: this.#callerPool!.options.password };
    // keepAlive lets the OS notice a dead peer; the name shows the connection's purpose in pg_stat_activity.
    return { fallback_application_name: "cloakroom-invalidation", ...base, keepAlive: true };
  }

  async #connect(driver: Driver): Promise<void> {
    if (this.#closed) return;
    const client = new driver.Client(this.#listenerConfig());
    this.#listener = client;
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client));
    client.on("notification", (notification) => {
      if (client === this.#listener && notification.channel === this.#channel) {
        this.#handlers?.onMessage(decodeInvalidation(notification.payload));
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${driver.escapeIdentifier(this.#channel)}`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (client !== this.#listener) return; // lost or closed while LISTEN was in flight: already handled
    this.#attempt = 0;
    this.#report(true);
  }

  /** The listener failed or ended: report it (once per client), drop the client, and schedule a replacement. */
  #lost(client: pg.Client, error?: unknown): void {
    if (client !== this.#listener) return;
    this.#listener = undefined;
    if (error !== undefined) this.#onError(asError(error));
    client.end().catch(() => {}); // its 'error' listener stays, so a late error on the dead socket is swallowed
    this.#report(false);
    if (this.#closed || this.#timer !== undefined) return;
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void loadDriver().then((loaded) => this.#connect(loaded));
    }, this.#reconnectDelay(this.#attempt));
  }

  #report(connected: boolean): void {
    if (this.#reported === connected || this.#closed) return;
    this.#reported = connected;
    this.#handlers?.onState(connected);
  }
}
