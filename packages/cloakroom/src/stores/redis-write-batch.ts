/**
 * One socket write per turn of the event loop for RedisStore's commands. ioredis writes every command to its socket
 * as soon as it is called — one `write(2)` per command, and on the Redis side one read and one reply write per
 * command — unless the client was made with `enableAutoPipelining`. node-redis, which connect-redis uses, batches by
 * default: it queues the commands and writes them in one corked burst from a `setImmediate` (`@redis/client`'s
 * scheduled write and `RedisSocket.write`). Corking ioredis's socket until a `setImmediate` does the same without
 * building a Pipeline per batch: under concurrent load (many creates resolving at once) one syscall per batch instead
 * of one per command, which at a million creates is less than half the client CPU per command and half Redis's
 * (bench/README.md, issue 13).
 *
 * Only a standalone or Sentinel client has one socket; a Cluster routes each command to the socket of its slot's
 * node, so it is left alone there (its own `enableAutoPipelining` groups per node).
 */
import type { Cluster, Redis } from "ioredis";

/** Called before each command: corks the client's socket unless it is already corked, and uncorks it once the
 * current turn of the event loop is done with its callbacks, ticks and promise jobs. */
export type BeforeWrite = () => void;

const NOTHING: BeforeWrite = () => {};

/** The {@link BeforeWrite} of a client: a no-op for a Cluster. */
export function writeBatcherOf(client: Redis | Cluster): BeforeWrite {
  if (client.isCluster) return NOTHING;
  const redis = client as Redis;
  // The socket corked by this batcher, uncorked by one function made once (not a closure per command): a reconnect
  // replaces redis.stream, and the socket that was corked is the one to uncork.
  let corked: Redis["stream"] | null = null;
  const uncork = (): void => {
    const stream = corked;
    corked = null;
    stream?.uncork();
  };
  return () => {
    const stream = redis.stream;
    // Corked already: by this tick's first command (its uncork is queued) or by the caller, who will uncork it.
    if (stream === undefined || stream === null || stream.writableCorked > 0) return;
    stream.cork();
    // A socket replaced since its cork (a reconnect) is uncorked now; the new one waits for the queued uncork.
    if (corked !== null) uncork();
    corked = stream;
    // setImmediate runs after every nextTick and promise job of this turn (as node-redis's write does), so every
    // command issued while handling one batch of replies joins the same write, the create batches flushed on
    // nextTick (redis-create-batch.ts) included.
    setImmediate(uncork);
  };
}
