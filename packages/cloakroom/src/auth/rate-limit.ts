/**
 * A generic fixed-window rate limit — for example "at most 100 invalid session tickets per IP per minute", the
 * spray detection of the OWASP Session Management CS ("Session ID Guessing and Brute Force Detection").
 */
import { checkKeyPrefix, consumePoint, hashKey, retryAfterSeconds, withLimiter } from "./limiter.js";
import {
  checkLimit,
  createLimiter,
  type LimitOptions,
  type RateLimitBackend,
  type RateLimitBackendType,
} from "./rate-limit-backend.js";

/** Options of {@link createRateLimit}. */
export interface RateLimitOptions extends LimitOptions {
  /** Where the counters live. */
  backend: RateLimitBackend;
  /** Namespace of the keys (Redis key prefix, SQL row key prefix). Use one per purpose. @default "cloakroom:rate" */
  keyPrefix?: string;
}

/** The answer of {@link RateLimit.consume}. */
export type RateLimitDecision =
  | { allowed: true; remaining: number }
  | { allowed: false; retryAfterSeconds: number };

/** A rate limit over opaque keys. */
export interface RateLimit {
  /** The backend in use (`memory` after a documented fallback). */
  readonly backend: RateLimitBackendType;
  /**
   * Count one event for `key`.
   * @returns `{ allowed: true, remaining }`, or `{ allowed: false, retryAfterSeconds }` once over the limit.
   * @throws {Error} When the backend fails (the original error is the `cause`); answer 503.
   */
  consume(key: string): Promise<RateLimitDecision>;
  /**
   * Forget the count for `key`.
   * @throws {Error} When the backend fails (the original error is the `cause`).
   */
  reset(key: string): Promise<void>;
}

/**
 * Create a rate limit: `points` events per `duration` seconds per key, counted in a fixed window that starts at the
 * key's first event. Keys are stored as SHA-256 digests, so no IP address or email sits in clear in the store.
 *
 * @param options `{ points, duration, blockDuration?, backend, keyPrefix? }`.
 * @returns A {@link RateLimit}.
 * @throws {TypeError} When an option is invalid (the message names it).
 * @example
 * const invalidTickets = createRateLimit({ points: 100, duration: 60, backend: { type: "redis", client: redis },
 *   keyPrefix: "cloakroom:bad-ticket" });
 * // on every request whose cookie names no live session:
 * const decision = await invalidTickets.consume(ipRateLimitKey(req.ip));
 * if (!decision.allowed) res.set("Retry-After", String(decision.retryAfterSeconds)).sendStatus(429);
 */
export function createRateLimit(options: RateLimitOptions): RateLimit {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
  const limit = checkLimit(options, "options");
  const handle = createLimiter(options.backend, limit, checkKeyPrefix(options.keyPrefix ?? "cloakroom:rate"));
  return {
    backend: handle.backend,
    async consume(key) {
      const { blocked, res } = await consumePoint(handle, hashKey(key));
      return blocked
        ? { allowed: false, retryAfterSeconds: retryAfterSeconds(res, limit) }
        : { allowed: true, remaining: res.remainingPoints };
    },
    async reset(key) {
      await withLimiter(handle, (limiter) => limiter.delete(hashKey(key)));
    },
  };
}
