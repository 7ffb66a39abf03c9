/**
 * Filling stores directly through their APIs (not over HTTP), for the memory, scale and sweep measurements.
 */
import { randomBytes, createHash } from "node:crypto";

/** A cloakroom store key: base64url(SHA-256(32 random bytes)), 43 characters, as the manager makes them. */
export function newStoreKey(): string {
  return createHash("sha256").update(randomBytes(32)).digest("base64url");
}

/**
 * A key of a store key's shape (43 base64url characters) made the way an express-session id is made, by one
 * randomBytes call: for timing a store's create beside connect-redis's `set` (bench:memory). {@link newStoreKey}'s
 * SHA-256 is the session manager's work (it hashes the ticket), which connect-redis's row has no counterpart of.
 */
export function randomStoreKey(): string {
  return randomBytes(32).toString("base64url");
}

/** An express-session id as `uid-safe(24)` makes it (32 characters). */
export function newSessionId(): string {
  return randomBytes(24).toString("base64url");
}

/** A minimal cloakroom record: `userId` only, as a login right now would store it. */
export function minimalRecord(userId: string, now: number, idleMs = 30 * 60_000, absoluteMs = 12 * 3_600_000): object {
  return {
    userId,
    data: { userId },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + idleMs,
    absoluteExpiresAt: now + absoluteMs,
    cookieMaxAge: null,
    version: 0,
    meta: {},
  };
}

/** A minimal anonymous cloakroom record: no user, an empty cart (what a shop stores before login). */
export function anonymousRecord(now: number, idleMs = 30 * 60_000, absoluteMs = 12 * 3_600_000): object {
  return { ...minimalRecord("", now, idleMs, absoluteMs), userId: null, data: { cart: [] } };
}

/** A minimal express-session session object (what it stores for `req.session.userId = …` with default cookie options). */
export function minimalExpressSession(userId: string): object {
  return { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: "/" }, userId };
}

/**
 * Run `task(i)` for i in [0, count) with at most `concurrency` in flight (network stores pipeline them), yielding
 * to the event loop between batches for synchronous stores.
 */
export async function forEachConcurrent(count: number, concurrency: number, task: (i: number) => Promise<unknown> | void): Promise<void> {
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Print progress on one line every `step` items (stderr, so stdout stays machine-readable). */
export function progress(label: string, total: number): (done: number) => void {
  const step = Math.max(1, Math.floor(total / 10));
  return (done) => {
    if (done % step === 0 && done > 0) process.stderr.write(`  ${label}: ${Math.round((done / total) * 100)}%\r`);
  };
}
