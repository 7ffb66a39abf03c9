import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory.js";
import { SessionStoreUnavailableError } from "./errors.js";
import { SessionManager, type SessionEvent, type SessionManagerOptions } from "./manager.js";
import type { Session } from "./session.js";
import { createSigner } from "./signing.js";
import { storeKeyOf } from "./ticket.js";
import type { SessionStore } from "./types.js";

const SECRET = "manager-test-secret-0123456789abcdef";
const MIN = 60_000;

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

const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup(options: Partial<SessionManagerOptions> = {}) {
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
function cookieFrom(setCookie: string | null): string {
  if (!setCookie) throw new Error("expected a Set-Cookie line");
  return setCookie.split(";")[0]!;
}

describe("SessionManager", () => {
  describe("a request without a cookie", () => {
    it("stores nothing and sets no cookie when the session stays empty", async () => {
      const { manager, calls, load } = setup();
      const session = await load();
      expect(await manager.commit(session)).toBeNull();
      expect(calls.create ?? 0).toBe(0);
    });

    it("creates a record and sets the cookie once data is written", async () => {
      const { manager, memory, load } = setup();
      const session = await load();
      session.cart = ["apple"];
      const line = await manager.commit(session);
      expect(line).toMatch(/^sid=s%3A[A-Za-z0-9_-]{43}\.[A-Za-z0-9%+/]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const again = await load(cookieFrom(line));
      expect(again.cart).toEqual(["apple"]);
      expect(await memory.count()).toBe(1);
    });

    it("saves empty sessions with saveUninitialized", async () => {
      const { manager, load } = setup({ saveUninitialized: true });
      expect(await manager.commit(await load())).not.toBeNull();
    });
  });

  describe("tickets", () => {
    it("never stores the ticket: the store key is SHA-256 of it", async () => {
      const { manager, memory, load } = setup();
      const session = await load();
      session.userId = "u1";
      await manager.commit(session);
      const [entry] = await memory.listByUser("u1");
      expect(entry!.key).toBe(storeKeyOf(session.id!));
      expect(JSON.stringify(entry)).not.toContain(session.id!);
    });

    it("never adopts an unknown well-formed ticket and creates no record for it", async () => {
      const { manager, calls, load, events } = setup();
      const forged = createSigner([SECRET]).sign("attacker-chosen-ticket-000000000000000000000");
      const session = await load(`sid=${encodeURIComponent(forged)}`);
      expect(session.id).toBeNull();
      expect(calls.create ?? 0).toBe(0);
      session.userId = "victim";
      await manager.commit(session);
      expect(session.id).not.toBe("attacker-chosen-ticket-000000000000000000000");
      expect(events.map((e) => e.type)).toContain("unknown_session");
    });

    it.each([
      ["a forged signature", "sid=s%3Aabc.def"],
      ["bad percent-encoding", "sid=%E0%A4%A"],
      ["a 10 kB cookie", `sid=${"x".repeat(10_000)}`],
      ["an empty value", "sid="],
    ])("treats %s as no session, without a store lookup", async (_, header) => {
      const { calls, load } = setup();
      const session = await load(header);
      expect(session.id).toBeNull();
      expect(calls.get ?? 0).toBe(0);
    });

    it("refuses two different valid tickets under one name (cookie tossing)", async () => {
      const { manager, load, events } = setup();
      const a = await load();
      a.userId = "alice";
      const lineA = await manager.commit(a);
      const b = await load();
      b.userId = "mallory";
      const lineB = await manager.commit(b);
      const both = await load(`${cookieFrom(lineB)}; ${cookieFrom(lineA)}`);
      expect(both.userId).toBeUndefined();
      expect(events.some((e) => e.type === "ambiguous_cookie")).toBe(true);
      // The same ticket twice is not ambiguous.
      expect((await load(`${cookieFrom(lineA)}; ${cookieFrom(lineA)}`)).userId).toBe("alice");
    });

    it("re-signs a ticket verified by an older secret with the current one", async () => {
      const clock = { t: 1_000_000 };
      const memory = new MemoryStore({ now: () => clock.t });
      stores.push(memory);
      const old = new SessionManager({ store: memory, secret: "old-secret-0123456789abcdefghijklmnop", now: () => clock.t });
      const s = await old.load({ cookieHeader: undefined, secure: false });
      s.userId = "u";
      const oldLine = await old.commit(s);
      const rotated = new SessionManager({ store: memory, secret: [SECRET, "old-secret-0123456789abcdefghijklmnop"], now: () => clock.t });
      const loaded = await rotated.load({ cookieHeader: cookieFrom(oldLine), secure: false });
      expect(loaded.userId).toBe("u");
      const line = await rotated.commit(loaded);
      expect(cookieFrom(line)).toBe(`sid=${encodeURIComponent(createSigner([SECRET]).sign(loaded.id!))}`);
    });
  });

  describe("change tracking", () => {
    it("writes nothing for a read-only request inside the touch window", async () => {
      const { manager, calls, clock, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const before = { ...calls };
      clock.t += 30_000;
      const again = await load(cookie);
      expect(await manager.commit(again)).toBeNull();
      expect(calls.patch ?? 0).toBe(before.patch ?? 0);
      expect(calls.touch ?? 0).toBe(before.touch ?? 0);
      expect(calls.create).toBe(before.create);
    });

    it("touches once the touch window has passed", async () => {
      const { manager, calls, clock, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      clock.t += 61_000;
      await manager.commit(await load(cookie));
      expect(calls.touch).toBe(1);
      const [entry] = await memory.listByUser("u1");
      expect(entry!.record.idleExpiresAt).toBe(clock.t + 30 * MIN);
    });

    it("patches only the keys that changed, nested mutation included", async () => {
      const { manager, memory, load } = setup();
      const s = await load();
      Object.assign(s, { userId: "u1", prefs: { theme: "dark" }, cart: [1], gone: true });
      const cookie = cookieFrom(await manager.commit(s));
      const patches: unknown[] = [];
      const originalPatch = memory.patch.bind(memory);
      memory.patch = (key, patch) => {
        patches.push(patch);
        return originalPatch(key, patch);
      };
      const t = await load(cookie);
      (t.prefs as { theme: string }).theme = "light";
      delete t.gone;
      await manager.commit(t);
      expect(patches).toHaveLength(1);
      expect(patches[0]).toMatchObject({ set: { prefs: { theme: "light" } }, unset: ["gone"] });
      expect(Object.keys((patches[0] as { set: object }).set)).toEqual(["prefs"]);
    });

    it("two concurrent requests changing different keys both survive", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const [a, b] = await Promise.all([load(cookie), load(cookie)]);
      a!.left = 1;
      b!.right = 2;
      await Promise.all([manager.commit(a!), manager.commit(b!)]);
      const after = await load(cookie);
      expect([after.left, after.right]).toEqual([1, 2]);
    });

    it("a stored __proto__ key cannot change a session's prototype", async () => {
      const { manager, load } = setup();
      const s = await load();
      Object.defineProperty(s, "__proto__", { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
      s.userId = "u";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      expect((again as { polluted?: boolean }).polluted).toBeUndefined();
      expect(typeof again.save).toBe("function");
    });
  });

  describe("rotation", () => {
    it("rotates the ticket when the identity key changes, keeping the data and killing the old ticket", async () => {
      const { manager, load, memory } = setup();
      const anon = await load();
      anon.csrf = "token-before-login";
      const before = cookieFrom(await manager.commit(anon));
      const login = await load(before);
      login.userId = "u1";
      const after = cookieFrom(await manager.commit(login));
      expect(after).not.toBe(before);
      expect((await load(before)).csrf).toBeUndefined();
      const fresh = await load(after);
      expect(fresh.userId).toBe("u1");
      expect(fresh.csrf).toBe("token-before-login");
      expect(await memory.count()).toBe(1);
    });

    it("rotate() issues a new ticket now and keeps the data", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const first = cookieFrom(await manager.commit(s));
      const again = await load(first);
      await again.rotate();
      const line = await manager.commit(again);
      expect(cookieFrom(line)).not.toBe(first);
      expect((await load(first)).userId).toBeUndefined();
      expect((await load(cookieFrom(line))).userId).toBe("u1");
    });

    it("an explicit save() mid-request keeps its Set-Cookie for the response", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      await s.save();
      const line = manager.prepare(s);
      expect(line).toMatch(/^sid=/);
      expect(await manager.commit(s)).toBe(line);
    });
  });

  describe("timeouts (server-side, injected clock)", () => {
    it("idle: a request at idle−1 s succeeds and slides the window; at idle+1 s the session is gone", async () => {
      const { manager, clock, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      clock.t += 30 * MIN - 1000;
      const alive = await load(cookie);
      expect(alive.userId).toBe("u1");
      await manager.commit(alive);
      clock.t += 30 * MIN - 1000;
      expect((await load(cookie)).userId).toBe("u1");
      clock.t += 30 * MIN + 1000;
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("absolute: a session used every minute dies at absolute+1 s", async () => {
      const { manager, clock, load } = setup({ absoluteTimeout: 60 * MIN });
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      for (let i = 0; i < 59; i++) {
        clock.t += MIN;
        const live = await load(cookie);
        expect(live.userId).toBe("u1");
        await manager.commit(live);
      }
      clock.t += MIN + 1000;
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("a persistent cookie's Max-Age never outlives the absolute timeout", async () => {
      const { manager, load } = setup({ absoluteTimeout: 60 * MIN });
      const s = await load();
      s.userId = "u1";
      s.cookie.maxAge = 7 * 24 * 60 * MIN;
      const line = await manager.commit(s);
      expect(line).toContain("Max-Age=3600");
    });
  });

  describe("destroy, regenerate, reload", () => {
    it("destroy() deletes the record and clears the cookie", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.destroy();
      expect(await manager.commit(again)).toBe("sid=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
      expect(await memory.count()).toBe(0);
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("regenerate() gives a new empty session and kills the old one", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.regenerate();
      expect(again.userId).toBeUndefined();
      again.fresh = true;
      const line = await manager.commit(again);
      expect(cookieFrom(line)).not.toBe(cookie);
      expect((await load(cookie)).fresh).toBeUndefined();
    });

    it("regenerate() with nothing stored afterwards clears the cookie", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.regenerate();
      expect(await manager.commit(again)).toMatch(/^sid=; Max-Age=0/);
    });

    it("details describes the stored session", async () => {
      const { manager, load, clock } = setup();
      const s = await load();
      expect(s.details).toBeNull();
      s.userId = "u1";
      await manager.commit(s);
      expect(s.details).toMatchObject({ createdAt: clock.t, touchedAt: clock.t, expiresAt: clock.t + 30 * MIN, persistent: false, ip: "203.0.113.7" });
    });

    it("reload() re-reads the data, and rejects once the session is gone", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const a = await load(cookie);
      const b = await load(cookie);
      b.n = 5;
      await manager.commit(b);
      await a.reload();
      expect(a.n).toBe(5);
      await b.destroy();
      await expect(a.reload()).rejects.toThrow("failed to load session");
    });

    it("a patch after the session was destroyed elsewhere does not resurrect it", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const a = await load(cookie);
      const b = await load(cookie);
      await a.destroy();
      b.late = true;
      await manager.commit(b);
      expect(await memory.count()).toBe(0);
    });
  });

  describe("binding (detection only)", () => {
    it("reports a User-Agent change on a live session and still serves it", async () => {
      const { manager, events } = setup();
      const first = await manager.load({ cookieHeader: undefined, secure: false, userAgent: "Firefox/1" });
      first.userId = "u1";
      const cookie = cookieFrom(await manager.commit(first));
      const same = await manager.load({ cookieHeader: cookie, secure: false, userAgent: "Firefox/1" });
      expect(events.some((e) => e.type === "user_agent_changed")).toBe(false);
      expect(same.userId).toBe("u1");
      const other = await manager.load({ cookieHeader: cookie, secure: false, userAgent: "curl/8" });
      expect(other.userId).toBe("u1");
      expect(events.filter((e) => e.type === "user_agent_changed")).toEqual([expect.objectContaining({ userId: "u1" })]);
    });
  });

  describe("session.cookie (express-session's Cookie)", () => {
    it("reports and changes the persistent lifetime, and mirrors the resolved attributes", async () => {
      const { manager, load } = setup({ cookie: { sameSite: "strict" } });
      const s = await load(null, { secure: true });
      expect(s.cookie.maxAge).toBeNull();
      expect(s.cookie.expires).toBeNull();
      expect([s.cookie.httpOnly, s.cookie.secure, s.cookie.path, s.cookie.domain, s.cookie.sameSite]).toEqual([true, true, "/", undefined, "strict"]);
      s.userId = "u1";
      s.cookie.expires = new Date(Date.now() + 3_600_000);
      expect(s.cookie.originalMaxAge).toBeGreaterThan(3_590_000);
      s.cookie.maxAge = 120_000;
      expect(s.cookie.maxAge).toBe(120_000);
      expect(s.cookie.toJSON()).toMatchObject({ originalMaxAge: 120_000, httpOnly: true, secure: true, sameSite: "strict" });
      const line = await manager.commit(s);
      expect(line).toMatch(/^__Host-sid=.*Max-Age=120;/);
      expect(s.cookie.maxAge).toBeLessThanOrEqual(120_000);
      s.cookie.expires = null;
      expect(s.cookie.maxAge).toBeNull();
      // express-session's meaning of a lifetime that is over: the cookie (and the session) expire at once.
      s.cookie.maxAge = -1;
      expect(s.cookie.maxAge).toBeLessThan(0);
      expect(() => {
        s.cookie.maxAge = "soon" as never;
      }).toThrow(TypeError);
    });

    it("turning a session persistent later patches it and re-sends the cookie with Max-Age", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      again.cookie.maxAge = 600_000;
      expect(await manager.commit(again)).toMatch(/Max-Age=600;/);
      expect((await memory.listByUser("u1"))[0]!.record.cookieMaxAge).toBe(600_000);
    });
  });

  describe("per-user sessions", () => {
    it("lists, revokes one (only the owner's), and revokes all but the current one", async () => {
      const { manager, load, clock } = setup();
      const cookies: string[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await load();
        s.userId = "u1";
        cookies.push(cookieFrom(await manager.commit(s)));
        clock.t += 1000;
      }
      const list = await manager.listUserSessions("u1");
      expect(list).toHaveLength(3);
      expect(list[0]!.createdAt).toBeGreaterThan(list[2]!.createdAt);
      expect(list[0]).toMatchObject({ ip: "203.0.113.7", userAgent: "test-agent", persistent: false });
      expect(await manager.revokeSession("someone-else", list[0]!.key)).toBe(false);
      expect(await manager.revokeSession("u1", list[0]!.key)).toBe(true);
      const current = await load(cookies[0]);
      const kept = manager.describe(current)!.key;
      expect(await manager.revokeUserSessions("u1", { except: kept })).toBe(1);
      expect((await manager.listUserSessions("u1")).map((s) => s.key)).toEqual([kept]);
    });
  });

  describe("when the store fails", () => {
    it("load() rejects with SessionStoreUnavailableError keeping the cause (never anonymous)", async () => {
      const { memory, load, signIn } = setup();
      const cookie = await signIn();
      const boom = new Error("connection refused");
      memory.get = () => Promise.reject(boom);
      memory.peek = () => undefined; // not in memory: the manager must ask get()
      const error = await load(cookie).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect((error as Error).cause).toBe(boom);
      expect((error as SessionStoreUnavailableError).status).toBe(503);
    });

    it("a store whose synchronous peek() throws fails the load the same way (a rejection, never a throw)", async () => {
      const { manager, memory, signIn } = setup();
      const cookie = await signIn();
      const boom = new Error("cache corrupted");
      memory.peek = () => {
        throw boom;
      };
      const pending = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(pending).toBeInstanceOf(Promise);
      const error = await (pending as Promise<unknown>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect((error as Error).cause).toBe(boom);
    });

    it("loadNow() answers synchronously when the store can peek, and through get() when it cannot", async () => {
      const { manager, memory, signIn } = setup();
      const cookie = await signIn();
      const now = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(now).not.toBeInstanceOf(Promise);
      expect((now as { userId?: string }).userId).toBe("u1");
      let gets = 0;
      const get = memory.get.bind(memory);
      memory.get = (key: string) => {
        gets++;
        return get(key);
      };
      memory.peek = () => undefined;
      const later = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(later).toBeInstanceOf(Promise);
      expect(((await later) as { userId?: string }).userId).toBe("u1");
      expect(gets).toBe(1);
    });
  });

  describe("the commit plan", () => {
    it("decide() says what a commit would do without doing it; commit(plan) executes exactly that", async () => {
      const { manager, load, calls } = setup();
      const s = await load();
      s.userId = "u1";
      const plan = manager.decide(s);
      expect(plan.call.op).toBe("create");
      expect(calls.create ?? 0).toBe(0);
      expect(await manager.commit(s, plan)).toBe(plan.setCookie);
      expect(calls.create).toBe(1);
      expect(manager.decide(s).call.op).toBe("none");
    });

    it("a save() not awaited and the end-of-request commit write the session once, under one ticket", async () => {
      const { manager, load, calls } = setup();
      const s = await load();
      s.userId = "u1";
      const early = manager.commit(s);
      const late = manager.commit(s);
      const [first, second] = await Promise.all([early, late]);
      expect(calls.create).toBe(1);
      expect(second).toBe(first);
    });

    it("a cookie line made by an explicit save() still reaches the response's commit", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const line = await manager.commit(s);
      expect(manager.decide(s).setCookie).toBe(line);
    });

    it("detach(): the request dropped its session, nothing it changed is saved", async () => {
      const { manager, load, signIn, calls } = setup();
      const s = await load(await signIn());
      s.cart = ["x"];
      manager.detach(s);
      expect(manager.decide(s)).toMatchObject({ call: { op: "none" }, setCookie: null });
      expect(calls.patch ?? 0).toBe(0);
    });

    it("regenerate() empties the session in place, or (replace) gives a new object that takes its place", async () => {
      const { manager, load, signIn } = setup();
      const same = await load(await signIn());
      expect(await manager.regenerate(same)).toBe(same);
      expect(Object.keys(same)).toEqual(["cookie"]);
      const s = await load(await signIn());
      const fresh = await manager.regenerate(s, { replace: true });
      expect(fresh).not.toBe(s);
      fresh.note = "new";
      s.ignored = true;
      const plan = manager.decide(fresh);
      expect(plan.call).toMatchObject({ op: "create", record: { data: { note: "new" } } });
    });

    it("cookie.expires as an option: new sessions expire at that date", async () => {
      const { manager, clock } = setup({ cookie: { expires: new Date(Date.UTC(2026, 10, 27, 10)) } });
      const s = await manager.load({ cookieHeader: undefined, secure: false });
      expect(s.cookie.originalMaxAge).toBe(Date.UTC(2026, 10, 27, 10) - clock.t);
      s.userId = "u1";
      expect(await manager.commit(s)).toMatch(/Max-Age=3600;/);
    });
  });

  describe("configuration", () => {
    it.each([
      [{ secret: undefined }, /secret option required/],
      [{ secret: [] }, /one or more/],
      [{ store: {} }, /store option/],
      [{ identityKey: "" }, /identityKey/],
      [{ cookie: { maxAge: -5 } }, /cookie.maxAge/],
      [{ idleTimeout: "30m" }, /idleTimeout/],
    ])("refuses %j with a TypeError naming the option", (bad, message) => {
      const memory = new MemoryStore();
      stores.push(memory);
      expect(() => new SessionManager({ store: memory, secret: SECRET, ...(bad as object) } as SessionManagerOptions)).toThrow(message);
    });

    it("refuses a secret shorter than 32 characters in production only", () => {
      const memory = new MemoryStore();
      stores.push(memory);
      const previous = process.env.NODE_ENV;
      try {
        process.env.NODE_ENV = "production";
        expect(() => new SessionManager({ store: memory, secret: "random-secret" })).toThrow(/32 characters/);
        process.env.NODE_ENV = "development";
        expect(() => new SessionManager({ store: memory, secret: "random-secret" })).not.toThrow();
      } finally {
        process.env.NODE_ENV = previous;
      }
    });
  });
});
