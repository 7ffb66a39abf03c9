/**
 * Idle and absolute timeouts, enforced on the server (the cookie's Expires never decides anything).
 *
 * Defaults: idle 30 min, absolute 12 h — ASVS 4.0.3 V3.3.2 level 2 ("12 hours or 30 minutes of inactivity") and
 * NIST SP 800-63B rev 3 AAL2; within 800-63B-4's AAL2 guidance (overall SHOULD ≤ 24 h, idle SHOULD ≤ 1 h) and far
 * inside AAL1 (≤ 30 days). Writes that only slide the idle window are throttled to one per `touchAfter` (default
 * 60 s), so the effective idle timeout lies between `idleTimeout - touchAfter` and `idleTimeout`.
 */
import type { SessionRecord } from "./types.js";

export const DEFAULT_IDLE_TIMEOUT = 30 * 60_000;
export const DEFAULT_ABSOLUTE_TIMEOUT = 12 * 60 * 60_000;
export const DEFAULT_TOUCH_AFTER = 60_000;

/** The three durations, in ms. */
export interface TimeoutPolicy {
  idleTimeout: number;
  absoluteTimeout: number;
  touchAfter: number;
}

/**
 * Check and complete the timeout options.
 * @throws {TypeError} naming the option when a value is not a positive whole number of ms, or touchAfter ≥ idleTimeout
 */
export function resolveTimeoutPolicy(options: Partial<TimeoutPolicy>, cookieMaxAge: number | null): TimeoutPolicy {
  const idleTimeout = checkDuration("idleTimeout", options.idleTimeout ?? cookieMaxAge ?? DEFAULT_IDLE_TIMEOUT);
  // An express-session app with a long cookie.maxAge keeps sessions that long unless it sets absoluteTimeout.
  const absoluteTimeout = checkDuration(
    "absoluteTimeout",
    options.absoluteTimeout ?? Math.max(DEFAULT_ABSOLUTE_TIMEOUT, cookieMaxAge ?? 0),
  );
  const touchAfter = options.touchAfter ?? Math.min(DEFAULT_TOUCH_AFTER, Math.floor(idleTimeout / 2));
  if (!Number.isInteger(touchAfter) || touchAfter < 0 || touchAfter >= idleTimeout) {
    throw new TypeError("touchAfter option must be a whole number of ms, at least 0 and below idleTimeout");
  }
  return { idleTimeout, absoluteTimeout, touchAfter };
}

function checkDuration(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${name} option must be a positive whole number of milliseconds`);
  }
  return value;
}

/** Whether the record is still alive at `now` (both windows open). */
export function isLive(record: Pick<SessionRecord, "idleExpiresAt" | "absoluteExpiresAt">, now: number): boolean {
  return now < record.idleExpiresAt && now < record.absoluteExpiresAt;
}

/** The session's idle window: its persistent cookie's Max-Age when it has one, else the policy's idle timeout. */
export function idleWindowOf(record: Pick<SessionRecord, "cookieMaxAge">, policy: TimeoutPolicy): number {
  return record.cookieMaxAge ?? policy.idleTimeout;
}

/** The new idle expiry when a session is used at `now`: never past the absolute expiry. */
export function slideIdleExpiry(
  record: Pick<SessionRecord, "absoluteExpiresAt" | "cookieMaxAge">,
  now: number,
  policy: TimeoutPolicy,
): number {
  return Math.min(now + idleWindowOf(record, policy), record.absoluteExpiresAt);
}

/** A read-only request writes only once `touchAfter` has passed since the last write. */
export function shouldTouch(record: Pick<SessionRecord, "touchedAt">, now: number, policy: TimeoutPolicy): boolean {
  return now - record.touchedAt >= policy.touchAfter;
}
