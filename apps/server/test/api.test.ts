import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, OTHER_PASSWORD, api, loginViaApi, registerViaApi, sessionCookieOf, setCookies, startTestServer, type TestServer } from "./helpers.js";

describe("JSON API", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  describe("POST /api/register", () => {
    it("creates the account with a normalized email, logs in and answers 201", async () => {
      const agent = request.agent(server.app);
      const res = await api(agent, "post", "/api/register", { email: "  New.User@Example.COM ", password: GOOD_PASSWORD });
      expect(res.status).toBe(201);
      expect(res.body.user.email).toBe("new.user@example.com");
      const me = await api(agent, "get", "/api/me");
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe("new.user@example.com");
      const stored = await server.backends.users.findUserByEmail("new.user@example.com");
      expect(stored?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });

    it("refuses the same email in another case with 409 email_taken", async () => {
      await registerViaApi(server.app, "dup@example.com");
      const res = await api(request(server.app), "post", "/api/register", { email: "DUP@example.com", password: OTHER_PASSWORD });
      expect(res.status).toBe(409);
      expect(res.body.error).toBe("email_taken");
    });

    it("applies the password policy: 14 code points refused, 15 accepted, a common password refused", async () => {
      const short = await api(request(server.app), "post", "/api/register", { email: "short@example.com", password: "abcdefghijklmn" });
      expect(short.status).toBe(400);
      expect(short.body).toMatchObject({ error: "weak_password", reason: "password_too_short" });
      const ok = await api(request(server.app), "post", "/api/register", { email: "fifteen@example.com", password: "abcdefghijklmnq" });
      expect(ok.status).toBe(201);
      const common = await api(request(server.app), "post", "/api/register", { email: "common@example.com", password: "password12345678" });
      expect(common.status).toBe(400);
      expect(common.body.error).toBe("weak_password");
    });

    it("accepts 15 emoji as a password and logs in with them", async () => {
      const emoji = "🐙🦊🐢🦉🐝🦋🐬🦒🦓🐧🦔🐳🦦🦥🐊";
      const res = await api(request(server.app), "post", "/api/register", { email: "emoji@example.com", password: emoji });
      expect(res.status).toBe(201);
      await loginViaApi(server.app, "emoji@example.com", emoji);
    });

    it("refuses an invalid email with 400 invalid_email", async () => {
      const res = await api(request(server.app), "post", "/api/register", { email: "not-an-email", password: GOOD_PASSWORD });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_email");
    });
  });

  describe("POST /api/login", () => {
    it("logs in with the email in any case and spacing, and rotates the ticket", async () => {
      await registerViaApi(server.app, "case@example.com");
      const agent = request.agent(server.app);
      const res = await api(agent, "post", "/api/login", { email: " CASE@Example.com", password: GOOD_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body.user.email).toBe("case@example.com");
      expect(JSON.stringify(res.body)).not.toContain(sessionCookieOf(res)?.split("=")[1]?.slice(4, 30) ?? "??");
    });

    it("answers 401 invalid_credentials for a wrong password", async () => {
      const res = await api(request(server.app), "post", "/api/login", { email: "case@example.com", password: OTHER_PASSWORD });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "invalid_credentials", message: "Invalid credentials" });
    });

    it("a persistent cookie only with remember: true", async () => {
      const plain = await api(request(server.app), "post", "/api/login", { email: "case@example.com", password: GOOD_PASSWORD });
      const remembered = await api(request(server.app), "post", "/api/login", { email: "case@example.com", password: GOOD_PASSWORD, remember: true });
      const plainLine = setCookies(plain).find((l) => l.startsWith("sid="));
      const rememberedLine = setCookies(remembered).find((l) => l.startsWith("sid="));
      expect(plainLine).not.toMatch(/Max-Age|Expires/i);
      expect(rememberedLine).toMatch(/Max-Age=\d+/i);
      const maxAge = Number(/Max-Age=(\d+)/i.exec(rememberedLine as string)?.[1]);
      expect(maxAge).toBeLessThanOrEqual(server.config.absoluteTimeout / 1000);
      expect(maxAge).toBeGreaterThan(server.config.idleTimeout / 1000);
    });
  });

  describe("signed-in routes", () => {
    it("GET /api/me is 401 not_authenticated without a session", async () => {
      const res = await api(request(server.app), "get", "/api/me");
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("not_authenticated");
    });

    it("GET /api/sessions lists every session with the current one marked; DELETE revokes one", async () => {
      await registerViaApi(server.app, "devices@example.com");
      const a = await loginViaApi(server.app, "devices@example.com");
      const b = await loginViaApi(server.app, "devices@example.com");
      const list = await api(a, "get", "/api/sessions").set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0");
      expect(list.status).toBe(200);
      expect(list.body.sessions.length).toBe(3);
      const current = list.body.sessions.filter((s: { current: boolean }) => s.current);
      expect(current).toHaveLength(1);
      const bMe = await api(b, "get", "/api/me");
      const bKey = bMe.body.session.id as string;
      const revoke = await api(a, "delete", `/api/sessions/${encodeURIComponent(bKey)}`);
      expect(revoke.status).toBe(200);
      expect((await api(b, "get", "/api/me")).status).toBe(401);
      expect((await api(a, "get", "/api/me")).status).toBe(200);
      const again = await api(a, "delete", `/api/sessions/${encodeURIComponent(bKey)}`);
      expect(again.status).toBe(404);
      expect(again.body.error).toBe("session_not_found");
    });

    it("cannot revoke another user's session", async () => {
      await registerViaApi(server.app, "victim@example.com");
      const victim = await loginViaApi(server.app, "victim@example.com");
      const key = (await api(victim, "get", "/api/me")).body.session.id as string;
      const attacker = await registerViaApi(server.app, "attacker@example.com");
      const res = await api(attacker, "delete", `/api/sessions/${encodeURIComponent(key)}`);
      expect(res.status).toBe(404);
      expect((await api(victim, "get", "/api/me")).status).toBe(200);
    });

    it("POST /api/logout-others ends every other session and keeps this one", async () => {
      await registerViaApi(server.app, "everywhere@example.com");
      const a = await loginViaApi(server.app, "everywhere@example.com");
      const b = await loginViaApi(server.app, "everywhere@example.com");
      const res = await api(a, "post", "/api/logout-others", {});
      expect(res.status).toBe(200);
      expect(res.body.revoked).toBeGreaterThanOrEqual(2);
      expect((await api(b, "get", "/api/me")).status).toBe(401);
      expect((await api(a, "get", "/api/me")).status).toBe(200);
    });

    it("POST /api/logout ends the session", async () => {
      await registerViaApi(server.app, "bye@example.com");
      const a = await loginViaApi(server.app, "bye@example.com");
      const res = await api(a, "post", "/api/logout", {});
      expect(res.status).toBe(200);
      expect(res.headers["clear-site-data"]).toBeDefined();
      expect((await api(a, "get", "/api/me")).status).toBe(401);
    });
  });

  describe("POST /api/password", () => {
    it("needs the current password: a wrong one is 403 wrong_password and nothing changes", async () => {
      const agent = await registerViaApi(server.app, "pw1@example.com");
      const res = await api(agent, "post", "/api/password", { currentPassword: OTHER_PASSWORD, newPassword: "a brand new passphrase" });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe("wrong_password");
      await loginViaApi(server.app, "pw1@example.com", GOOD_PASSWORD);
    });

    it("without currentPassword is a 400", async () => {
      const agent = await registerViaApi(server.app, "pw2@example.com");
      const res = await api(agent, "post", "/api/password", { newPassword: "a brand new passphrase" });
      expect(res.status).toBe(400);
    });

    it("changes the password, revokes the other sessions, rotates this one", async () => {
      const a = await registerViaApi(server.app, "pw3@example.com");
      const b = await loginViaApi(server.app, "pw3@example.com");
      const before = (await api(a, "get", "/api/me")).body.session.id;
      const res = await api(a, "post", "/api/password", { currentPassword: GOOD_PASSWORD, newPassword: "a brand new passphrase" });
      expect(res.status).toBe(200);
      expect(sessionCookieOf(res)).not.toBeNull();
      const after = (await api(a, "get", "/api/me")).body.session.id;
      expect(after).not.toBe(before);
      expect((await api(b, "get", "/api/me")).status).toBe(401);
      const old = await api(request(server.app), "post", "/api/login", { email: "pw3@example.com", password: GOOD_PASSWORD });
      expect(old.status).toBe(401);
      await loginViaApi(server.app, "pw3@example.com", "a brand new passphrase");
    });
  });

  it("unknown API routes are a JSON 404", async () => {
    const res = await api(request(server.app), "get", "/api/nope");
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_found");
  });

  it("POST bodies that are not JSON get 415 unsupported_media_type", async () => {
    const res = await request(server.app).post("/api/login").set("Content-Type", "text/plain").send("email=x");
    expect(res.status).toBe(415);
    const withOrigin = await request(server.app).post("/api/login").set("Sec-Fetch-Site", "same-origin").type("form").send("email=x&password=y");
    expect(withOrigin.status).toBe(415);
    expect(withOrigin.body.error).toBe("unsupported_media_type");
  });
});
