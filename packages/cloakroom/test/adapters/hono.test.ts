/**
 * What only cloakroom/hono has: the session through Hono's typed `Variables`, Set-Cookie through the context beside
 * the route's own cookies, how HTTPS is told on @hono/node-server (the socket, or a trusted X-Forwarded-Proto; never
 * the scheme of an absolute request target), the 503s, and Hono without Node (`app.request`).
 */
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterAll, describe, expect, it } from "vitest";
import express from "express";
import expressSession from "cloakroom/express";
import { session, type HonoSessionOptions, type ScopedSessionEnv, type SessionEnv } from "cloakroom/hono";
import { FaultyStore, openDeadStore, type OpenedStore } from "./backends.js";

const SECRET = "hono-adapter-test-secret-0123456789abcd";
const servers: Server[] = [];
const opened: OpenedStore[] = [];
afterAll(async () => {
  for (const server of servers) server.close();
  await Promise.all(opened.map((o) => o.close()));
});

function build(options: Partial<HonoSessionOptions> = {}): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  app.use(session({ secret: SECRET, ...options }));
  app.post("/login", (c) => {
    c.var.session.set("userId", "u1");
    c.header("set-cookie", "theme=dark; Path=/", { append: true });
    return c.text("Logged in");
  });
  app.get("/me", (c) => c.json({ userId: c.get("session").userId ?? null }));
  app.get("/device", (c) => c.json({ ip: c.var.session.details?.ip ?? null }));
  return app;
}

async function listen(app: Hono<SessionEnv>): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw HTTP/1.1 request (fetch cannot send an absolute-form request target). */
function raw(base: string, target: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: target, headers }, (res) => {
      res.resume();
      resolve(res);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("cloakroom/hono on @hono/node-server", () => {
  it("sets the session cookie beside the route's own, with Cache-Control: no-store", async () => {
    const base = await listen(build());
    const login = await fetch(`${base}/login`, { method: "POST" });
    const lines = login.headers.getSetCookie();
    expect(lines).toEqual(["theme=dark; Path=/", expect.stringMatching(/^sid=s%3A.*; Path=\/; HttpOnly; SameSite=Lax$/)]);
    expect(login.headers.get("cache-control")).toBe("no-store");
    const me = await fetch(`${base}/me`, { headers: { cookie: lines[1]!.split(";")[0]! } });
    expect(await me.json()).toEqual({ userId: "u1" });
  });

  it("HTTPS is the socket's, or X-Forwarded-Proto with proxy: true; an absolute https:// target over HTTP is not", async () => {
    const plain = await listen(build());
    expect((await raw(plain, "/login", { "x-forwarded-proto": "https" })).headers["set-cookie"]![1]).toMatch(/^sid=/);
    expect((await raw(plain, "https://example.test/login")).headers["set-cookie"]![1]).toMatch(/^sid=/);
    const proxied = await listen(build({ proxy: true }));
    expect((await raw(proxied, "/login", { "x-forwarded-proto": "https" })).headers["set-cookie"]![1]).toMatch(/^__Host-sid=.*; Secure; SameSite=Lax$/);
  });

  it("a dead store: 503 through the app's onError at load, and a clean 503 without the route's cookies at commit", async () => {
    const dead = await openDeadStore();
    opened.push(dead);
    const app = build({ store: dead.store });
    app.onError((error, c) => c.text(error instanceof HTTPException ? `onError ${error.status}` : "other", error instanceof HTTPException ? error.status : 500));
    const base = await listen(app);
    const login = await fetch(`${base}/login`, { method: "POST" });
    expect([login.status, await login.text(), login.headers.getSetCookie()]).toEqual([503, "Service Unavailable", []]);
    const good = (await fetch(`${await listen(build())}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    const me = await fetch(`${base}/me`, { headers: { cookie: good } });
    expect([me.status, await me.text()]).toEqual([503, "onError 503"]);
  });
});

describe("cloakroom/hono: cookie as a function, the client address behind proxies", () => {
  it("cookie as a function of the context: each request's attributes, with the name option", async () => {
    const base = await listen(build({ name: "app.sid", cookie: (c) => ({ maxAge: c.req.header("x-remember") === "1" ? 3_600_000 : null, sameSite: "strict" }) }));
    const remembered = await fetch(`${base}/login`, { method: "POST", headers: { "x-remember": "1" } });
    expect(remembered.headers.getSetCookie()[1]).toMatch(/^app\.sid=s%3A[^;]+; Max-Age=3600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    const plain = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!;
    expect(plain).toMatch(/^app\.sid=s%3A[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(await (await fetch(`${base}/me`, { headers: { cookie: plain.split(";")[0]! } })).json()).toEqual({ userId: "u1" });
  });

  /** Log in with these headers, then read the address the new session recorded. */
  async function recordedIp(base: string, headers: Record<string, string>): Promise<string | null> {
    const line = (await fetch(`${base}/login`, { method: "POST", headers })).headers.getSetCookie().find((l) => /^(__Host-)?sid=/.test(l))!;
    return ((await (await fetch(`${base}/device`, { headers: { cookie: line.split(";")[0]! } })).json()) as { ip: string | null }).ip;
  }

  it("records the socket's peer by default, and the client named by X-Forwarded-For through trusted hops", async () => {
    const forwarded = { "x-forwarded-for": "203.0.113.7, 10.0.0.2" };
    expect(await recordedIp(await listen(build()), forwarded)).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(await recordedIp(await listen(build({ trustProxy: "loopback" })), forwarded)).toBe("10.0.0.2");
    expect(await recordedIp(await listen(build({ trustProxy: ["loopback", "10.0.0.0/8"] })), forwarded)).toBe("203.0.113.7");
    expect(await recordedIp(await listen(build({ trustProxy: 1 })), forwarded)).toBe("10.0.0.2");
    expect(await recordedIp(await listen(build({ trustProxy: true })), { "x-forwarded-for": "forged, 10.0.0.2" })).toBeNull();
  });

  it("records the same address as cloakroom/express under the same trust proxy setting", async () => {
    const app = express();
    app.set("trust proxy", "loopback, 10.0.0.0/8");
    app.use(expressSession({ secret: SECRET }));
    app.post("/login", (req, res) => {
      req.session.userId = "u1";
      res.send("Logged in");
    });
    app.get("/device", (req, res) => {
      res.json({ ip: req.session.details?.ip ?? null });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    servers.push(server);
    const expressBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const honoBase = await listen(build({ trustProxy: "loopback, 10.0.0.0/8" }));
    for (const chain of ["203.0.113.7, 10.0.0.2", "198.51.100.4, 203.0.113.7, 10.9.9.9", "10.0.0.1"]) {
      const headers = { "x-forwarded-for": chain };
      expect(await recordedIp(honoBase, headers)).toBe(await recordedIp(expressBase, headers));
    }
  });

  it("with trustProxy and proxy unset, X-Forwarded-Proto counts only from a trusted peer; proxy: false never", async () => {
    const https = { "x-forwarded-proto": "https" };
    expect((await raw(await listen(build({ trustProxy: "loopback" })), "/login", https)).headers["set-cookie"]![1]).toMatch(/^__Host-sid=.*; Secure;/);
    expect((await raw(await listen(build({ trustProxy: "10.0.0.0/8" })), "/login", https)).headers["set-cookie"]![1]).toMatch(/^sid=/);
    expect((await raw(await listen(build({ trustProxy: "loopback", proxy: false })), "/login", https)).headers["set-cookie"]![1]).toMatch(/^sid=/);
  });

  it.each([[{ trustProxy: "not-an-address" }, /trustProxy option/], [{ proxy: "yes" }, /proxy option must be a boolean/]])("refuses %j", (bad, message) => {
    expect(() => session({ secret: SECRET, ...(bad as object) } as HonoSessionOptions)).toThrow(message);
  });
});

describe("cloakroom/hono: no cookie, answers from memory, failing stores and routes", () => {
  /** The app of these tests: build()'s routes, a write route, a failing route, and onError telling what it got. */
  function faultyApp(store: FaultyStore, options: Partial<HonoSessionOptions> = {}): Hono<SessionEnv> {
    const app = build({ store, ...options });
    app.post("/cart", (c) => {
      c.var.session.cart = 1;
      return c.text("ok");
    });
    app.get("/boom", () => {
      throw new Error("route failed");
    });
    app.onError((error, c) => c.text(error instanceof HTTPException ? `onError ${error.status}` : `onError ${error.message}`, error instanceof HTTPException ? error.status : 500));
    return app;
  }

  it("a request without a cookie: an empty session, no Set-Cookie, no Cache-Control", async () => {
    const base = await listen(faultyApp(new FaultyStore()));
    const me = await fetch(`${base}/me`);
    expect([me.status, await me.json(), me.headers.getSetCookie(), me.headers.get("cache-control")]).toEqual([200, { userId: null }, [], null]);
  });

  it("a logged-in read-only request answers from memory with no Set-Cookie; a write is committed", async () => {
    const store = new FaultyStore();
    const base = await listen(faultyApp(store));
    const cookie = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect([await me.json(), me.headers.getSetCookie()]).toEqual([{ userId: "u1" }, []]);
    expect((await fetch(`${base}/cart`, { method: "POST", headers: { cookie } })).status).toBe(200);
    const [listed] = await store.listByUser("u1");
    expect(listed!.record.data).toEqual({ userId: "u1", cart: 1 });
  });

  it("rolling: a read-only request inside the touch window (no store call) still sends the cookie, with no-store", async () => {
    const store = new FaultyStore();
    const base = await listen(faultyApp(store, { rolling: true }));
    const cookie = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    store.failWrites = true; // a store call would answer 503
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect([me.status, await me.json(), me.headers.get("cache-control")]).toEqual([200, { userId: "u1" }, "no-store"]);
    expect(me.headers.getSetCookie().map((line) => line.split(";")[0])).toEqual([cookie]);
  });

  it("the middleware returns a Promise and never throws: a failing cookie function is a rejection", async () => {
    const inner = session({ secret: SECRET, cookie: () => { throw new Error("cookie failed"); } });
    const app = new Hono();
    app.use((c, next) => {
      let result: Promise<unknown>;
      try {
        result = inner(c as never, next);
      } catch {
        return Promise.resolve(c.text("threw", 500));
      }
      return result.then(() => c.text("resolved"), () => c.text("rejected", 500));
    });
    app.get("/me", (c) => c.text("route"));
    expect(await (await app.request("/me")).text()).toBe("rejected");
  });

  it("a store without a synchronous read: the same answers through its Promise", async () => {
    const store = new FaultyStore();
    store.noPeek = true;
    const base = await listen(faultyApp(store));
    const cookie = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect([await me.json(), me.headers.getSetCookie()]).toEqual([{ userId: "u1" }, []]);
  });

  it("a store whose synchronous read throws: 503 through onError for a request with a cookie; one without runs", async () => {
    const store = new FaultyStore();
    const base = await listen(faultyApp(store));
    const cookie = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    store.failPeek = true;
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect([me.status, await me.text(), me.headers.getSetCookie()]).toEqual([503, "onError 503", []]);
    expect((await fetch(`${base}/me`)).status).toBe(200);
  });

  it("a store that fails on commit: a clean 503 without the route's cookies, for a new session and for a change", async () => {
    const store = new FaultyStore();
    const base = await listen(faultyApp(store));
    const cookie = (await fetch(`${base}/login`, { method: "POST" })).headers.getSetCookie()[1]!.split(";")[0]!;
    store.failWrites = true;
    const login = await fetch(`${base}/login`, { method: "POST" });
    expect([login.status, await login.text(), login.headers.getSetCookie(), login.headers.get("cache-control")]).toEqual([503, "Service Unavailable", [], "no-store"]);
    const cart = await fetch(`${base}/cart`, { method: "POST", headers: { cookie } });
    expect([cart.status, await cart.text(), cart.headers.getSetCookie()]).toEqual([503, "Service Unavailable", []]);
  });

  it("an error in the route reaches onError, whose answer the session is then committed on (Hono's compose)", async () => {
    const base = await listen(faultyApp(new FaultyStore(), { saveUninitialized: true }));
    const boom = await fetch(`${base}/boom`);
    expect([boom.status, await boom.text()]).toEqual([500, "onError route failed"]);
    expect(boom.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=s%3A/)]);
  });

  it("a cookie function that throws: a rejection that reaches onError (500), as from an async middleware", async () => {
    const base = await listen(faultyApp(new FaultyStore(), { cookie: () => { throw new Error("cookie failed"); } }));
    const me = await fetch(`${base}/me`);
    expect([me.status, await me.text()]).toEqual([500, "onError cookie failed"]);
  });

  it.each([
    ["proxy: false, trustProxy: true", { proxy: false, trustProxy: true }, false],
    ["proxy: false", { proxy: false }, false],
    ["neither (nobody trusted)", {}, false],
    ["proxy: true", { proxy: true }, true],
    ["trustProxy: true", { trustProxy: true }, true],
    ["trustProxy: loopback", { trustProxy: "loopback" }, true],
    ["trustProxy: another subnet", { trustProxy: "10.0.0.0/8" }, false],
  ])("X-Forwarded-Proto: https with %s: a Secure cookie is %s", async (_, options, secure) => {
    const base = await listen(faultyApp(new FaultyStore(), options as Partial<HonoSessionOptions>));
    const forwarded = (await raw(base, "/login", { "x-forwarded-proto": "https" })).headers["set-cookie"]![1]!;
    expect(forwarded).toMatch(secure ? /^__Host-sid=.*; Secure;/ : /^sid=(?!.*Secure)/);
    expect((await raw(base, "/login")).headers["set-cookie"]![1]).toMatch(/^sid=(?!.*Secure)/);
  });

  it.each([
    ["a static path", { cookie: { path: "/app" } }],
    ["a cookie function", { cookie: () => ({ path: "/app" }) }],
  ])("with %s other than \"/\", a request outside it has no session and no Set-Cookie", async (_, options) => {
    const app = new Hono<ScopedSessionEnv>();
    app.use(session({ secret: SECRET, store: new FaultyStore(), saveUninitialized: true, ...(options as Partial<HonoSessionOptions>) }));
    app.get("*", (c) => c.text(c.var.session === undefined ? "none" : "session"));
    const base = await listen(app as unknown as Hono<SessionEnv>);
    const outside = await fetch(`${base}/me`);
    expect([await outside.text(), outside.headers.getSetCookie()]).toEqual(["none", []]);
    const inside = await fetch(`${base}/app/me`);
    expect(await inside.text()).toBe("session");
    expect(inside.headers.getSetCookie()[0]).toMatch(/^sid=.*; Path=\/app;/);
  });
});

describe("cloakroom/hono without Node (app.request)", () => {
  it("reads the Cookie header from the Request and tells HTTPS by the URL", async () => {
    const app = build();
    const login = await app.request("https://example.test/login", { method: "POST" });
    const line = login.headers.getSetCookie()[1]!;
    expect(line).toMatch(/^__Host-sid=.*; Secure; SameSite=Lax$/);
    const me = await app.request("https://example.test/me", { headers: { cookie: line.split(";")[0]! } });
    expect(await me.json()).toEqual({ userId: "u1" });
  });
});
