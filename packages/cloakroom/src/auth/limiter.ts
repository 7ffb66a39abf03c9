/**
 * Operations on one limiter handle, shared by the generic rate limit and the login throttle. Internal: not
 * re-exported from `cloakroom/auth`.
 */
import { ServiceUnavailableError } from "../core/errors.js";
import { createHash } from "node:crypto";
import { RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { LimiterHandle, LimitOptions } from "./rate-limit-backend.js";

/** SHA-256, base64url: identifiers (emails, IPs) never reach the store in clear, and every key has one short length. */
export function hashKey(value: string): string {
  return createHash("sha256").update(String(value), "utf8").digest("base64url");
}

/** Add one point to `key`; `blocked` when the key is now over its limit. */
export async function consumePoint(handle: LimiterHandle, key: string): Promise<{ blocked: boolean; res: RateLimiterRes }> {
  try {
    await handle.ready;
    return { blocked: false, res: await handle.limiter.consume(key) };
  } catch (error) {
    // rate-limiter-flexible rejects with a RateLimiterRes for "over the limit" and with an Error for failures.
    if (error instanceof RateLimiterRes) return { blocked: true, res: error };
    throw backendFailure(error);
  }
}

/** Run one operation once the limiter is ready; any failure becomes an infrastructure error with `cause`. */
export async function withLimiter<T>(handle: LimiterHandle, op: (limiter: RateLimiterAbstract) => Promise<T>): Promise<T> {
  try {
    await handle.ready;
    return await op(handle.limiter);
  } catch (error) {
    throw backendFailure(error);
  }
}

/** Seconds until the key may try again: at least 1, rounded up (an HTTP `Retry-After` value). */
export function retryAfterSeconds(res: RateLimiterRes, limit: LimitOptions): number {
  // -1 means "no expiry", which our positive durations never produce; answer the longest possible wait then.
  const ms = res.msBeforeNext >= 0 ? res.msBeforeNext : Math.max(limit.blockDuration ?? 0, limit.duration) * 1000;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Validate a key namespace. */
export function checkKeyPrefix(prefix: string): string {
  if (typeof prefix !== "string" || prefix === "" || prefix.length > 100) {
    throw new TypeError("keyPrefix option must be a non-empty string of at most 100 characters");
  }
  return prefix;
}

/** A 503 at the edge: without its counters the server cannot tell a login from a brute-force attempt (fail closed). */
function backendFailure(cause: unknown): Error {
  return new ServiceUnavailableError("cloakroom/auth: the rate-limit backend failed", { code: "RATE_LIMIT_UNAVAILABLE", cause });
}
