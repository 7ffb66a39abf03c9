/**
 * Security-checklist rows that need a running HTTP server (Node's own header limits) or no other home:
 * default accounts, tickets outside the cookie, the documented session limit, oversized and numerous cookies,
 * duplicate JSON keys, Secure-only cookies over HTTP, re-authentication before revoking.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, GOOD_PASSWORD, loginViaApi, registerViaApi, sessionCookieOf, startTestServer, type TestServer } from "./helpers.js";

describe("security checklist rows (HTTP level)", () => {
  let server: TestServer;
  let clock: { t: number };
  let listening: http.Server;
  let base: string;
  beforeAll(async () => {
    clock = { t: Date.now() };
    server = await startTestServer({ now: () => clock.t });
    listening = http.createServer(server.app);
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => listening.close(resolve));
    await server.close();
  });

  it("has no default accounts: admin/admin and friends fail, and a fresh install has no user", async () => {
    for (const [email, password] of [["admin", "admin"], ["admin@example.com", "admin"], ["root@localhost", "root"], ["admin@localhost", "password"]]) {
      const res = await api(request(server.app), "post", "/api/login", { email, password });
      expect(res.status).toBe(401);
    }
    expect(await server.backends.users.listUsers()).toEqual([]);
  });

  it("ignores a session ticket sent in the query, the body or a header: only the cookie counts", async () => {
    await registerViaApi(server.app, "url-ticket@example.com");
    const login = await api(request(server.app), "post", "/api/login", { email: "url-ticket@example.com", password: GOOD_PASSWORD });
    const cookie = sessionCookieOf(login)!;
    const value = cookie.slice(cookie.indexOf("=") + 1);
    expect((await request(server.app).get(`/api/me?sid=${value}`)).status).toBe(401);
    expect((await request(server.app).get("/api/me").set("Authorization", `Bearer ${decodeURIComponent(value)}`)).status).toBe(401);
    expect((await api(request(server.app), "post", "/api/logout-others", { sid: decodeURIComponent(value) })).status).toBe(401);
    expect((await request(server.app).get("/api/me").set("Cookie", cookie)).status).toBe(200);
  });

  it("has no concurrent-session limit (ASVS 5.0 V7.1.2, documented): six logins give six live sessions, none evicted", async () => {
    await registerViaApi(server.app, "many@example.com");
    const agents = [];
    for (let i = 0; i < 6; i++) agents.push(await loginViaApi(server.app, "many@example.com"));
    const listed = await api(agents[0]!, "get", "/api/sessions");
    expect(listed.body.sessions).toHaveLength(7); // the registration's own session, plus six logins
    for (const agent of agents) expect((await api(agent, "get", "/api/me")).status).toBe(200);
  });

  it("revoking a session outside the re-authentication window is 403 reauthentication_required", async () => {
    await registerViaApi(server.app, "reauth@example.com");
    const a = await loginViaApi(server.app, "reauth@example.com");
    const b = await loginViaApi(server.app, "reauth@example.com");
    // b's own session, as a sees it in its device list.
    const other = (await api(b, "get", "/api/sessions")).body.sessions.find((s: { current: boolean }) => s.current);
    clock.t += server.config.reauthWindow + 1000;
    const refused = await api(a, "delete", `/api/sessions/${encodeURIComponent(other.id)}`);
    expect([refused.status, refused.body.error]).toEqual([403, "reauthentication_required"]);
    expect((await api(a, "post", "/api/logout-others", {})).status).toBe(403);
    expect((await api(b, "get", "/api/me")).status).toBe(200);
    expect((await api(a, "post", "/api/reauth", { password: GOOD_PASSWORD })).status).toBe(200);
    expect((await api(a, "delete", `/api/sessions/${encodeURIComponent(other.id)}`)).status).toBe(200);
    expect((await api(b, "get", "/api/me")).status).toBe(401);
  });

  it("a password change revokes the other sessions before it saves the new hash (a crash in between keeps no attacker session)", async () => {
    await registerViaApi(server.app, "order@example.com");
    const me = await loginViaApi(server.app, "order@example.com");
    const attacker = await loginViaApi(server.app, "order@example.com");
    const users = server.backends.users;
    const save = users.updatePasswordHash.bind(users);
    users.updatePasswordHash = () => Promise.reject(Object.assign(new Error("disk full"), { status: 503 }));
    try {
      const res = await api(me, "post", "/api/password", { currentPassword: GOOD_PASSWORD, newPassword: "a brand new passphrase here" });
      expect(res.status).toBe(503);
    } finally {
      users.updatePasswordHash = save;
    }
    expect((await api(attacker, "get", "/api/me")).status).toBe(401);
    // The password did not change: the old one still logs in.
    expect((await api(request(server.app), "post", "/api/login", { email: "order@example.com", password: GOOD_PASSWORD })).status).toBe(200);
  });

  it("a User-Agent change mid-session is logged (detection only) and the session keeps working", async () => {
    await registerViaApi(server.app, "agent@example.com");
    const login = await api(request(server.app), "post", "/api/login", { email: "agent@example.com", password: GOOD_PASSWORD }).set("User-Agent", "Firefox/128");
    const cookie = sessionCookieOf(login)!;
    const before = server.logs.length;
    expect((await request(server.app).get("/api/me").set("Cookie", cookie).set("User-Agent", "Firefox/128")).status).toBe(200);
    expect(server.logs.slice(before).some((l) => l.includes("session.user_agent_changed"))).toBe(false);
    expect((await request(server.app).get("/api/me").set("Cookie", cookie).set("User-Agent", "curl/8.5")).status).toBe(200);
    const lines = server.logs.slice(before).filter((l) => l.includes('"session.user_agent_changed"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"level":40');
    expect(lines[0]).not.toContain(cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf("=") + 20));
  });

  it("duplicate JSON keys: the last one wins (JSON.parse), as for every parser, and nothing else changes", async () => {
    const res = await request(server.app)
      .post("/api/login")
      .set("Content-Type", "application/json")
      .send('{"email":"nobody@example.com","email":"dup@example.com","password":"x","password":"y"}');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_credentials");
  });

  it.each([
    ["16 KiB", 16 * 1024],
    ["64 KiB", 64 * 1024],
  ])("a %s Cookie header is refused by Node with 431 and the server keeps serving", async (_, size) => {
    const res = await fetch(`${base}/api/me`, { headers: { cookie: `sid=${"a".repeat(size)}` } });
    expect(res.status).toBe(431);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("many cookies (over 50) and an 8 KiB one: no session, no 500", async () => {
    const many = Array.from({ length: 120 }, (_, i) => `c${i}=${i}`).join("; ");
    expect((await fetch(`${base}/api/me`, { headers: { cookie: many } })).status).toBe(401);
    expect((await fetch(`${base}/api/me`, { headers: { cookie: `sid=${"b".repeat(8 * 1024)}` } })).status).toBe(401);
  });
});

describe("COOKIE_SECURE=true over plain HTTP", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { COOKIE_SECURE: "true" } });
  });
  afterAll(() => server.close());

  it("sets no session cookie and stores no session (the cookie would never come back)", async () => {
    await registerViaApi(server.app, "secure-only@example.com").catch(() => undefined);
    const res = await api(request(server.app), "post", "/api/login", { email: "secure-only@example.com", password: GOOD_PASSWORD });
    expect(sessionCookieOf(res)).toBeNull();
    expect(await server.store.count()).toBe(0);
  });
});
