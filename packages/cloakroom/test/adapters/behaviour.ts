/**
 * The behaviour every adapter owes its users, written once: each adapter's test file calls
 * {@link describeAdapterBehaviour} with its framework, and it runs against every real store (and a dead one).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, openDeadStore, type OpenedStore } from "./backends.js";
import { call, sessionCookieOf, startApp, type Framework, type RunningApp } from "./apps.js";

const UNKNOWN_TICKET = "sid=s%3AunknownTicket000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** Log `user` in and return the session cookie (`sid=…`). */
async function login(app: RunningApp, user: string, cookie?: string, mount = ""): Promise<string> {
  const { response, text } = await call(app, "POST", `${mount}/login/${user}`, cookie);
  expect([response.status, text]).toEqual([200, "Logged in"]);
  const set = sessionCookieOf(response);
  if (!set) throw new Error("login set no session cookie");
  return set;
}

async function dashboardStatus(app: RunningApp, cookie: string): Promise<number> {
  return (await call(app, "GET", "/dashboard", cookie)).response.status;
}

async function me(app: RunningApp, cookie?: string, path = "/me"): Promise<{ userId: string | null; keys: string[] }> {
  const { response, text } = await call(app, "GET", path, cookie);
  expect(response.status).toBe(200);
  return JSON.parse(text) as { userId: string | null; keys: string[] };
}

/** Register the shared behaviour suite for one framework (top-level await: the servers' reachability decides skips). */
export async function describeAdapterBehaviour(framework: Framework): Promise<void> {
  for (const backend of BACKENDS) {
    const reachable = await backend.reachable();
    describe.skipIf(!reachable)(`cloakroom/${framework} on ${backend.name}`, () => {
      let opened: OpenedStore;
      let app: RunningApp;
      beforeAll(async () => {
        opened = await backend.open();
        app = await startApp(framework, { store: opened.store });
      });
      afterAll(async () => {
        await app?.close();
        await opened?.close();
      });

      it("login rotates the ticket: the pre-login ticket is dead, its data is kept", async () => {
        const before = sessionCookieOf((await call(app, "POST", "/set/cart")).response)!;
        expect(before).toMatch(/^sid=s%3A/);
        const after = await login(app, "alice", before);
        expect(after).not.toBe(before);
        expect(await me(app, after)).toEqual({ userId: "alice", keys: ["cart", "userId"] });
        expect(await me(app, before)).toEqual({ userId: null, keys: [] });
        const again = await login(app, "alice", after);
        expect(again).not.toBe(after);
        expect(await dashboardStatus(app, after)).toBe(401);
        expect(await dashboardStatus(app, again)).toBe(200);
      });

      it("logout destroys the record and clears the cookie", async () => {
        const cookie = await login(app, "bob");
        expect(await opened.store.listByUser("bob")).toHaveLength(1);
        const { response, text } = await call(app, "POST", "/logout", cookie);
        expect([response.status, text]).toEqual([200, "Logged out"]);
        expect(response.headers.getSetCookie()[0]).toMatch(/^sid=; Max-Age=0/);
        expect(await opened.store.listByUser("bob")).toHaveLength(0);
        expect(await dashboardStatus(app, cookie)).toBe(401);
      });

      it("100 concurrent requests writing distinct keys keep all 100", async () => {
        const cookie = await login(app, "carol");
        const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => call(app, "POST", `/set/k${i}`, cookie)));
        expect(answers.map((a) => a.response.status)).toEqual(Array(100).fill(200));
        expect((await me(app, cookie)).keys.filter((k) => k.startsWith("k"))).toHaveLength(100);
      });

      it.each([
        ["a tampered signature", async () => `${(await login(app, "dave")).slice(0, -2)}xx`],
        ["bad percent-encoding", async () => "sid=%E0%A4%A"],
        ["a 10 kB cookie", async () => `sid=${"a".repeat(10_240)}`],
        ["an unknown well-formed ticket", async () => UNKNOWN_TICKET],
        ["sid with no value", async () => "sid"],
        ["two different valid tickets", async () => `${await login(app, "erin")}; ${await login(app, "frank")}`],
      ])("%s gives no session, no 500 and no write", async (_, make) => {
        const cookie = await make();
        const before = await opened.store.count();
        const { response, text } = await call(app, "GET", "/me", cookie);
        expect(response.status).toBe(200);
        expect(JSON.parse(text)).toEqual({ userId: null, keys: [] });
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await opened.store.count()).toBe(before);
      });

      it("the same valid ticket twice is read", async () => {
        const cookie = await login(app, "grace");
        expect((await me(app, `${cookie}; ${cookie}`)).userId).toBe("grace");
      });

      it("revoke-all is seen at once by every other session of the user", async () => {
        const first = await login(app, "heidi");
        const second = await login(app, "heidi");
        expect(await opened.store.listByUser("heidi")).toHaveLength(2);
        expect((await call(app, "POST", "/revoke-all", first)).text).toBe("2");
        expect(await dashboardStatus(app, second)).toBe(401);
        expect(await dashboardStatus(app, first)).toBe(401);
      });
    });
  }

  describeCookiePath(framework);

  describe(`cloakroom/${framework} when the store is down`, () => {
    let live: OpenedStore;
    let dead: OpenedStore;
    let liveApp: RunningApp;
    let deadApp: RunningApp;
    beforeAll(async () => {
      live = await BACKENDS[0]!.open();
      dead = await openDeadStore();
      liveApp = await startApp(framework, { store: live.store });
      deadApp = await startApp(framework, { store: dead.store });
    });
    afterAll(async () => {
      await Promise.all([liveApp?.close(), deadApp?.close()]);
      await Promise.all([live?.close(), dead?.close()]);
    });

    it("a request with a session cookie gets 503, never the anonymous answer; one without runs", async () => {
      const cookie = await login(liveApp, "ivan");
      const { response, text } = await call(deadApp, "GET", "/dashboard", cookie);
      expect(response.status).toBe(503);
      expect(text).not.toContain(cookie.slice(4));
      expect(response.headers.getSetCookie()).toEqual([]);
      expect((await call(deadApp, "GET", "/public")).response.status).toBe(200);
    });

    it("a login whose commit fails gets 503 and no cookie", async () => {
      const { response } = await call(deadApp, "POST", "/login/judy");
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
    });
  });
}

/**
 * Whether `/application` lies under cookie.path `/app`: express-session's string prefix says yes (cloakroom/express
 * and /hono follow it), @fastify/session's RFC 6265 path-match says no (cloakroom/fastify follows it).
 */
const PREFIX_IS_UNDER: Record<Framework, boolean> = { express: true, fastify: false, hono: true };

/** The session is scoped to cookie.path, given as an object or as a function of the request (read per request). */
function describeCookiePath(framework: Framework): void {
  describe(`cloakroom/${framework} with cookie.path "/app"`, () => {
    let opened: OpenedStore;
    let app: RunningApp;
    let perRequest: RunningApp;
    let clock = Date.now();
    let scope = "/app";
    beforeAll(async () => {
      opened = await BACKENDS[0]!.open();
      const common = { store: opened.store, now: () => clock, rolling: true, mounts: ["/app", "/application", "/ap"] };
      app = await startApp(framework, { ...common, cookie: { path: "/app" } });
      perRequest = await startApp(framework, { ...common, cookie: () => ({ path: scope }) });
    });
    afterAll(async () => {
      await Promise.all([app?.close(), perRequest?.close()]);
      await opened?.close();
    });

    it("a request outside the path has no session and no Set-Cookie, and the session it sends is not touched", async () => {
      const cookie = await login(app, "alice", undefined, "/app");
      const [before] = await app.manager.listUserSessions("alice");
      clock += 10 * 60_000; // past the touch window: a request under the path would touch the record
      for (const path of ["/me", "/ap/me", "/me?next=/app/me"]) {
        const { response, text } = await call(app, "GET", path, cookie);
        expect([path, response.status, JSON.parse(text)]).toEqual([path, 200, { userId: null, keys: [] }]);
        expect(response.headers.getSetCookie()).toEqual([]);
      }
      expect((await call(app, "GET", "/has-session", cookie)).text).toBe("none");
      expect((await app.manager.listUserSessions("alice"))[0]!.touchedAt).toBe(before!.touchedAt);
      const inside = await call(app, "GET", "/app/me", cookie);
      expect(JSON.parse(inside.text)).toEqual({ userId: "alice", keys: ["userId"] });
      expect(sessionCookieOf(inside.response)).toBe(cookie); // rolling: the cookie is sent again, under the path
      expect(inside.response.headers.getSetCookie()[0]).toMatch(/; Path=\/app;/);
      expect((await app.manager.listUserSessions("alice"))[0]!.touchedAt).toBe(clock);
    });

    it.each([
      ["/app/me", true],
      ["/app/me?x=1", true],
      ["/application/me", PREFIX_IS_UNDER[framework]],
      ["/ap/me", false],
      ["/me", false],
    ])("%s is under the path: %s", async (path, under) => {
      const cookie = await login(app, "bob", undefined, "/app");
      expect((await me(app, cookie, path)).userId).toBe(under ? "bob" : null);
      expect((await call(app, "GET", path.replace("/me", "/has-session"), cookie)).text).toBe(under ? "session" : "none");
    });

    it("a cookie given as a function of the request: its path is read on every request", async () => {
      scope = "/app";
      const cookie = await login(perRequest, "carol", undefined, "/app");
      expect((await me(perRequest, cookie)).userId).toBe(null);
      expect((await me(perRequest, cookie, "/app/me")).userId).toBe("carol");
      scope = "/";
      expect((await me(perRequest, cookie)).userId).toBe("carol");
    });

    it.each([
      ["throws", () => { throw new Error("boom"); }],
      ["returns no object", () => null],
    ])("a cookie function that %s fails the request (500), not the process", async (_, cookie) => {
      const broken = await startApp(framework, { store: opened.store, cookie: cookie as () => never });
      try {
        const { response } = await call(broken, "GET", "/me");
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
      } finally {
        await broken.close();
      }
    });
  });
}
