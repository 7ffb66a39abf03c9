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
import { session, type HonoSessionOptions, type SessionEnv } from "cloakroom/hono";
import { openDeadStore, type OpenedStore } from "./backends.js";

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
