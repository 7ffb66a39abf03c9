/**
 * The set-up the SessionManager tests share (manager-*.test.ts): a manager over a MemoryStore that counts its calls,
 * on an injected clock, with its events recorded. Importing this module registers the afterEach that closes the
 * stores setup() opened.
 */
import { afterEach } from "vitest";
import { MemoryStore } from "../stores/memory.js";
import { SessionManager, type SessionEvent, type SessionManagerOptions } from "./manager.js";
import type { Session } from "./session.js";
import type { SessionStore } from "./types.js";

export const SECRET = "manager-test-secret-0123456789abcdef";
export const MIN = 60_000;

/** A MemoryStore that counts the calls made to it, so tests can prove "no store write". */
function countingStore(store: SessionStore): { store: SessionStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

export const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

export function setup(options: Partial<SessionManagerOptions> = {}) {
  const clock = { t: Date.UTC(2026, 10, 27, 9) };
  const now = (): number => clock.t;
  const memory = new MemoryStore({ now });
  stores.push(memory);
  const { store, calls } = countingStore(memory);
  const events: SessionEvent[] = [];
  const manager = new SessionManager({ store, secret: SECRET, now, idleTimeout: 30 * MIN, absoluteTimeout: 12 * 60 * MIN, onEvent: (e) => events.push(e), ...options });
  /** Load the session for a cookie header (as the browser would send the Set-Cookie line back). */
  const load = (cookie?: string | null, extra: { secure?: boolean } = {}): Promise<Session> =>
    manager.load({ cookieHeader: cookie ?? undefined, secure: extra.secure ?? false, ip: "203.0.113.7", userAgent: "test-agent" });
  /** Log "u1" in on a new session and return the cookie the browser would send back. */
  const signIn = async (): Promise<string> => {
    const s = await load();
    s.userId = "u1";
    return cookieFrom(await manager.commit(s));
  };
  return { manager, memory, calls, clock, load, signIn, events };
}

/** The Cookie header a browser would send back for a Set-Cookie line. */
export function cookieFrom(setCookie: string | null): string {
  if (!setCookie) throw new Error("expected a Set-Cookie line");
  return setCookie.split(";")[0]!;
}
