/**
 * cloakroom/fastify against @fastify/session 11 (with @fastify/cookie), the same routes on both: the callback forms
 * of regenerate/destroy/reload/save, `isModified()` and `isSaved()`, `options()`, the session scoped to cookie.path,
 * its cookie rules (maxAge over expires, SameSite=None over HTTP), `cookieName`/`idGenerator`, and its stored sessions
 * read by cloakroom/fastify.
 * Where the two differ by design (a new session's `sessionId` before it is stored, `reload()` of a session never
 * stored, destroy() leaving `request.session` in place), the test says so and checks each side's own answer.
 */
import type { FastifyRequest } from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { HOUR, JsonStore, LIBS, appWith, closeApps, expiresIn, loginLine, post, sessionOf, viaCallback, type AnySession, type Route } from "./fastify-session-apps.js";

afterAll(closeApps);

describe.each(LIBS)("%s", (lib) => {
  it("isModified() and isSaved() through a new session, a save(callback), and later changes", async () => {
    const app = await appWith(lib, {
      "/steps": async (s) => {
        const steps: unknown[] = [[s.isModified(), s.isSaved()]];
        s.set("cart", 1);
        steps.push([s.isModified(), s.isSaved()]);
        steps.push(await viaCallback((cb) => s.save(cb)));
        steps.push([s.isModified(), s.isSaved()]);
        s.cart = 2;
        steps.push([s.isModified(), s.isSaved()]);
        return steps;
      },
      "/loaded": async (s) => {
        const steps: unknown[] = [[s.isModified(), s.isSaved(), s.get("cart")]];
        s.cart = 2; // the value it already has
        steps.push(s.isModified());
        s.prefs = { theme: "dark" };
        steps.push(s.isModified());
        return steps;
      },
      "/nested": async (s) => {
        (s.prefs as { theme: string }).theme = "light";
        return s.isModified();
      },
    });
    const first = await post(app, "/steps");
    expect(first.body).toEqual([[false, false], [true, false], "ok", [false, true], [true, true]]);
    const loaded = await post(app, "/loaded", first.cookie);
    expect(loaded.body).toEqual([[false, false, 2], false, true]);
    expect((await post(app, "/nested", loaded.cookie)).body).toBe(true);
  });

  it("reload(callback) drops unsaved changes; destroy(callback) ends the session", async () => {
    const app = await appWith(lib, {
      "/login": async (s) => (s.set("userId", "u1"), s.set("cart", 1), "in"),
      "/reload": async (s) => {
        s.cart = 99;
        const result = await viaCallback((cb) => s.reload(cb));
        return [result];
      },
      "/me": async (s) => [s?.get("userId") ?? null, s?.get("cart") ?? null],
      "/logout": async (s) => viaCallback((cb) => s.destroy(cb)),
    });
    const { cookie } = await post(app, "/login");
    expect((await post(app, "/reload", cookie)).body).toEqual(["ok"]);
    // @fastify/session replaces request.session on reload; read the data through a fresh request on both.
    expect((await post(app, "/me", cookie)).body).toEqual(["u1", 1]);
    expect((await post(app, "/logout", cookie)).body).toBe("ok");
    expect((await post(app, "/me", cookie)).body).toEqual([null, null]);
  });

  it("regenerate(ignoreFields, callback) and regenerate(callback): a new ticket, only the named fields kept", async () => {
    const app = await appWith(lib, {
      "/login": async (s) => (s.set("userId", "u1"), s.set("cart", 1), s.set("theme", "dark"), "in"),
      "/regenerate-keep": async (s, request) => {
        const result = await viaCallback((cb) => s.regenerate(["cart"], cb));
        const fresh = sessionOf(request);
        return [result, fresh.get("userId") ?? null, fresh.get("cart") ?? null, fresh.get("theme") ?? null];
      },
      "/regenerate-all": async (s, request) => [await viaCallback((cb) => s.regenerate(cb)), Object.keys(sessionOf(request)).filter((k) => k !== "cookie")],
      "/me": async (s) => [s.get("userId") ?? null, s.get("cart") ?? null],
    });
    const { cookie } = await post(app, "/login");
    const regenerated = await post(app, "/regenerate-keep", cookie);
    expect(regenerated.body).toEqual(["ok", null, 1, null]);
    expect(regenerated.cookie).not.toBe(cookie);
    expect((await post(app, "/me", cookie)).body).toEqual([null, null]);
    expect((await post(app, "/me", regenerated.cookie)).body).toEqual([null, 1]);
    expect((await post(app, "/regenerate-all", regenerated.cookie)).body).toEqual(["ok", []]);
  });
  it("cookie.path: outside it request.session is an empty object and no cookie is set; /app/… is under /app, /application is not", async () => {
    const probe: Route = async (s) => [typeof s.get === "function", typeof s.get === "function" ? (s.get("userId") ?? null) : Object.keys(s)];
    const app = await appWith(lib, {
      "/app/login": async (s) => (s.set("userId", "u1"), "in"),
      "/app": probe,
      "/app/me": probe,
      "/application": probe,
      "/ap": probe,
      "/me": probe,
    }, { cookie: { path: "/app" } });
    const login = await post(app, "/app/login");
    expect(login.lines[0]).toMatch(/; Path=\/app/);
    const answers: Record<string, unknown> = {};
    for (const path of ["/app", "/app/me", "/app/me?x=1", "/application", "/ap", "/me", "/me?next=/app"]) {
      const { body, lines } = await post(app, path, login.cookie);
      answers[path] = [body, lines];
    }
    expect(answers).toEqual({
      "/app": [[true, "u1"], []],
      "/app/me": [[true, "u1"], []],
      "/app/me?x=1": [[true, "u1"], []],
      "/application": [[false, []], []],
      "/ap": [[false, []], []],
      "/me": [[false, []], []],
      "/me?next=/app": [[false, []], []],
    });
  });

  it.each([
    ["maxAge first", { maxAge: HOUR, expires: new Date("2099-01-01T00:00:00Z") }],
    ["expires first", { expires: new Date("2099-01-01T00:00:00Z"), maxAge: HOUR }],
  ])("cookie.maxAge and cookie.expires both given (%s): maxAge decides the expiry", async (_, cookie) => {
    const line = await loginLine(lib, { cookie });
    expect(expiresIn(line)).toBeGreaterThan(HOUR / 2);
    expect(expiresIn(line)).toBeLessThan(2 * HOUR);
  });

  it("cookie.sameSite \"none\" with secure \"auto\" over HTTP: SameSite=Lax and no Secure (a browser refuses None without Secure)", async () => {
    const line = await loginLine(lib, { cookie: { secure: "auto", sameSite: "none" } });
    expect(line).toMatch(/; SameSite=Lax/i);
    expect(line).not.toMatch(/; Secure/i);
  });

  it("options({ maxAge }) makes this session's cookie persistent (ms, as @fastify/session 11 applies it); without it the cookie is a browser-session one", async () => {
    const remembered = await loginLine(lib, {}, async (s) => {
      s.set("userId", "u1");
      (s as unknown as { options(o: object): void }).options({ maxAge: HOUR });
      return "in";
    });
    expect(expiresIn(remembered)).toBeGreaterThan(HOUR / 2);
    expect(expiresIn(remembered)).toBeLessThan(2 * HOUR);
    expect(expiresIn(await loginLine(lib, {}))).toBeNull();
  });

  it("cookieName and idGenerator(request) name the cookie and make the id", async () => {
    const app = await appWith(lib, { "/login": async (s) => (s.set("userId", "u1"), "in"), "/me": async (s) => s.get("userId") ?? null }, {
      cookieName: "fsid",
      idGenerator: (request: FastifyRequest) => `generated-${request.headers["x-seed"] ?? "none"}-0123456789`,
    });
    const login = await app.inject({ method: "POST", url: "/login", headers: { "x-seed": "7" } });
    const line = ([] as string[]).concat((login.headers["set-cookie"] as string | string[]) ?? [])[0]!;
    expect(line).toMatch(/^fsid=(s%3A)?generated-7-0123456789\./);
    const me = await app.inject({ method: "POST", url: "/me", headers: { cookie: line.split(";")[0]! } });
    expect(JSON.parse(me.body)).toBe("u1");
  });
});

describe("from @fastify/session to cloakroom/fastify", () => {
  it("a session @fastify/session stored (cookiePrefix \"s:\", an express-session store) is read by cloakroom/fastify on the same store and secret", async () => {
    const store = new JsonStore();
    const routes: Record<string, Route> = {
      "/login": async (s) => (s.set("userId", "u1"), s.set("cart", 1), "in"),
      "/me": async (s) => [s.get("userId") ?? null, s.get("cart") ?? null],
    };
    const theirs = await appWith("@fastify/session", routes, { store, cookiePrefix: "s:" });
    const ours = await appWith("cloakroom", routes, { store, cookiePrefix: "s:" });
    const { cookie } = await post(theirs, "/login");
    expect(cookie).toMatch(/^sid=s%3A/);
    expect((await post(ours, "/me", cookie)).body).toEqual(["u1", 1]);
  });
});

describe("where cloakroom/fastify and @fastify/session differ by design", () => {
  const probe = {
    "/regenerate": async (s: AnySession, request: FastifyRequest) => {
      await viaCallback((cb) => s.regenerate(cb));
      return sessionOf(request).sessionId === null ? "no id yet" : "id";
    },
    "/reload-new": async (s: AnySession) => viaCallback((cb) => s.reload(cb)),
    "/destroy": async (s: AnySession, request: FastifyRequest) => (await viaCallback((cb) => s.destroy(cb)), sessionOf(request) === null ? "null" : "kept"),
  };

  it("@fastify/session stores a regenerated session at once; cloakroom at the end of the request (one write for a login)", async () => {
    expect((await post(await appWith("@fastify/session", probe), "/regenerate")).body).toBe("id");
    expect((await post(await appWith("cloakroom", probe), "/regenerate")).body).toBe("no id yet");
  });

  it("reload() of a session never stored: @fastify/session succeeds with an empty one, cloakroom fails (express-session's error)", async () => {
    expect((await post(await appWith("@fastify/session", probe), "/reload-new")).body).toBe("ok");
    expect((await post(await appWith("cloakroom", probe), "/reload-new")).body).toBe("failed to load session");
  });

  it("destroy(): @fastify/session sets request.session to null and sends no cookie; cloakroom keeps an empty session and clears the cookie", async () => {
    const routes = { ...probe, "/login": async (s: AnySession) => (s.set("userId", "u1"), "in") };
    const theirs = await appWith("@fastify/session", routes);
    const theirLogout = await post(theirs, "/destroy", (await post(theirs, "/login")).cookie);
    expect([theirLogout.body, theirLogout.lines]).toEqual(["null", []]);
    const ours = await appWith("cloakroom", routes);
    const ourLogout = await post(ours, "/destroy", (await post(ours, "/login")).cookie);
    expect(ourLogout.body).toBe("kept");
    expect(ourLogout.lines[0]).toMatch(/^sid=; Max-Age=0/);
  });
});
