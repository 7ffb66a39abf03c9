/**
 * A pinned connection in front of PostgresStore's own pool: a statement goes through one client the store keeps
 * checked out whenever that client is free, and through the pool otherwise.
 *
 * Why: `pool.query()` checks a client out and back in for every statement, and pg-pool's checkout costs about as
 * much as pg's whole query path: a promise, a connection-timeout timer, an idle-timeout timer on release, the
 * client's `error` listener swapped twice, `acquire`/`release` events and a ref/unref of the socket. Under callgrind
 * (V8 --single-threaded, one named `get` statement in a loop) a statement cost 152–161k instructions through the
 * pool and 105k through a checked-out client (bench:steady measures the whole request, see bench/README.md).
 *
 * Only one statement at a time uses the pinned client, so nothing ever queues behind another statement on it (no
 * head-of-line blocking, and pg's warning about queued queries never fires); concurrent statements take the pool's
 * other connections as before. Any error on the pinned client ends that connection (it goes back to the pool with
 * the error, which discards it) and a new one is pinned on the next statement, so a lost connection costs no more
 * than it does through the pool. Between statements the socket is unref'd, so an idle store never keeps a
 * finished process alive (the pool's `allowExitOnIdle`).
 */
import type pg from "pg";

/** pg's Client has `ref()`/`unref()` (its socket's); @types/pg leaves them out. */
type Refable = { ref(): void; unref(): void };
const refable = (client: pg.PoolClient): Refable => client as unknown as Refable;

/** Runs statements on a pinned client when it is free, on the pool otherwise. */
export class PinnedLane {
  private readonly pool: pg.Pool;
  private client: pg.PoolClient | null = null;
  private busy = false;
  private connecting = false;
  private closed = false;
  private inFlight: Promise<unknown> | null = null;
  private readonly dropOnError = (error: Error): void => this.drop(error);

  /** @param pool the store's own pool (never a caller's: the lane holds one of its connections for good) */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Run one statement.
   * @param config the statement, as `pool.query` takes it
   * @returns pg's result
   * @throws what pg throws (the caller wraps it)
   */
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    const client = this.client;
    if (client === null || this.busy) {
      if (client === null) this.pin();
      return this.pool.query<R>(config);
    }
    this.busy = true;
    refable(client).ref();
    const running = client.query<R>(config).then(
      (result) => {
        this.settle(client);
        return result;
      },
      (error: unknown) => {
        this.settle(client);
        if (this.client === client) this.drop(error instanceof Error ? error : new Error(String(error)));
        throw error;
      },
    );
    this.inFlight = running;
    return running;
  }

  /** Give the pinned client back to the pool once its statement (if any) is answered. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight?.catch(() => {});
    this.drop(undefined);
  }

  /** The statement on `client` is answered; nothing to do when the client was dropped meanwhile. */
  private settle(client: pg.PoolClient): void {
    if (this.client !== client) return;
    this.busy = false;
    this.inFlight = null;
    refable(client).unref();
  }

  /** Check a client out for the lane, in the background; statements use the pool until it is there. */
  private pin(): void {
    if (this.connecting || this.closed) return;
    this.connecting = true;
    this.pool.connect().then(
      (client) => {
        this.connecting = false;
        if (this.closed) return client.release();
        // A checked-out client has no pool listener: without this one, a connection that dies while pinned would
        // throw its 'error' event at the process.
        client.on("error", this.dropOnError);
        refable(client).unref();
        this.client = client;
      },
      () => {
        // The statement that asked went through the pool and reports the failure itself; the next one retries.
        this.connecting = false;
      },
    );
  }

  /** Stop using the pinned client: back to the pool, discarded when `error` is given. */
  private drop(error: Error | undefined): void {
    const client = this.client;
    if (client === null) return;
    this.client = null;
    this.busy = false;
    client.off("error", this.dropOnError);
    // A checked-in client is the pool's to ref and unref again.
    refable(client).ref();
    client.release(error);
  }
}
