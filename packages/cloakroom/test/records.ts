/**
 * The session record the store suites start from: a logged-in `user-1` (its id in the data too), idle 30 minutes,
 * absolute 24 hours, no meta. One builder for the store test files that share these defaults.
 */
import type { SessionRecord } from "../src/core/types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A record made at `now`, with `overrides` on top. */
export function recordAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "user-1",
    data: { userId: "user-1" },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: null,
    version: 0,
    meta: {},
    ...overrides,
  };
}
