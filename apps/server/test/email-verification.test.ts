/** EMAIL_VERIFICATION=off (the default: today's answers) and =required (alike answers, sign-in after the link). */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { createLogger } from "../src/logger.js";
import { linkIn, startSmtpCatcher, type SmtpCatcher } from "./smtp-catcher.js";
import { GOOD_PASSWORD, OTHER_PASSWORD, TEST_SECRET, api, browserGet, browserPost, csrfTokenOf, loginViaApi, sessionCookieOf, setCookies, startTestServer, type TestServer } from "./helpers.js";

const pathOf = (link: string): string => `${new URL(link).pathname}${new URL(link).search}`;

describe("email verification", () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(() => catcher.close());

  describe("EMAIL_VERIFICATION=off (the default)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { SMTP_URL: catcher.url } });
    });
    afterAll(() => server.close());

    it("keeps today's answers: 201 and signed in, 409 email_taken for a taken address, and no mail", async () => {
      expect(server.config.emailVerification).toBe("off");
      const agent = request.agent(server.app);
      const created = await api(agent, "post", "/api/register", { email: "off@example.com", password: GOOD_PASSWORD });
      expect(created.status).toBe(201);
      expect((await api(agent, "get", "/api/me")).status).toBe(200);
      const taken = await api(request(server.app), "post", "/api/register", { email: "off@example.com", password: OTHER_PASSWORD });
      expect(taken.status).toBe(409);
      expect(taken.body.error).toBe("email_taken");
      await server.background.drain();
      expect(catcher.mailsTo("off@example.com")).toEqual([]);
    });
  });

  describe("EMAIL_VERIFICATION=required", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { SMTP_URL: catcher.url, EMAIL_VERIFICATION: "required", PUBLIC_URL: "https://auth.example.test" } });
    });
    afterAll(() => server.close());

    it("a new and a taken address get the same 202 and no session; the owner of the taken one is told by mail", async () => {
      await api(request(server.app), "post", "/api/register", { email: "owner@example.com", password: GOOD_PASSWORD }).expect(202);
      const ownerBefore = await server.backends.users.findUserByEmail("owner@example.com");
      const answer = async (email: string) => {
        const res = await api(request(server.app), "post", "/api/register", { email, password: OTHER_PASSWORD });
        const { date: _date, etag: _etag, ...headers } = res.headers;
        return { status: res.status, body: res.body, headers, cookies: setCookies(res) };
      };
      const fresh = await answer("newcomer@example.com");
      const taken = await answer("OWNER@example.com");
      expect(taken).toEqual(fresh);
      expect(fresh).toMatchObject({ status: 202, body: { ok: true, message: expect.stringContaining("Check your inbox") }, cookies: [] });
      await server.background.drain();
      expect(catcher.mailsTo("newcomer@example.com").map((m) => m.subject)).toEqual(["Confirm your email address for Cloakroom"]);
      expect(catcher.mailsTo("owner@example.com").map((m) => m.subject)).toEqual([
        "Confirm your email address for Cloakroom",
        "Someone tried to create a Cloakroom account with your address",
      ]);
      // The second registration changed nothing about the owner's account.
      expect(await server.backends.users.findUserByEmail("owner@example.com")).toEqual(ownerBefore);
    });

    it("signs in only after the link: before it 403 email_not_verified (and a new link); the link works once and signs no one in", async () => {
      await api(request(server.app), "post", "/api/register", { email: "late@example.com", password: GOOD_PASSWORD }).expect(202);
      const agent = request.agent(server.app);
      const refused = await api(agent, "post", "/api/login", { email: "late@example.com", password: GOOD_PASSWORD });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe("email_not_verified");
      // A wrong password says nothing about the account.
      expect((await api(request(server.app), "post", "/api/login", { email: "late@example.com", password: OTHER_PASSWORD })).status).toBe(401);
      await server.background.drain();
      const mails = catcher.mailsTo("late@example.com");
      expect(mails).toHaveLength(2);
      // The newer link killed the first.
      expect((await browserGet(request.agent(server.app), pathOf(linkIn(mails[0], "/verify-email")))).status).toBe(400);
      const link = linkIn(mails[1], "/verify-email");
      expect(link).toMatch(/^https:\/\/auth\.example\.test\/verify-email\?token=[\w-]{43}$/);

      const confirmed = await browserGet(agent, pathOf(link));
      expect(confirmed.status).toBe(200);
      expect(confirmed.text).toContain("late@example.com is confirmed");
      expect((await api(agent, "get", "/api/me")).status).toBe(401);
      expect((await browserGet(request.agent(server.app), pathOf(link))).status).toBe(400);
      await loginViaApi(server.app, "late@example.com");
    });

    it("pages: register shows 'Check your inbox', the login form explains an unconfirmed address", async () => {
      const agent = request.agent(server.app);
      const form = await browserGet(agent, "/register");
      const registered = await browserPost(agent, "/register", { _csrf: csrfTokenOf(form.text), email: "page@example.com", password: GOOD_PASSWORD });
      expect(registered.status).toBe(200);
      expect(registered.text).toContain("Check your inbox");
      const login = await browserGet(agent, "/login");
      const refused = await browserPost(agent, "/login", { _csrf: csrfTokenOf(login.text), email: "page@example.com", password: GOOD_PASSWORD });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain("Confirm your email address first");
    });

    it("a password reset confirms the address (the mail was read)", async () => {
      await api(request(server.app), "post", "/api/register", { email: "reset@example.com", password: GOOD_PASSWORD }).expect(202);
      await api(request(server.app), "post", "/api/password/forgot", { email: "reset@example.com" }).expect(202);
      await server.background.drain();
      const token = new URL(linkIn(catcher.mailsTo("reset@example.com").at(-1), "/reset-password")).searchParams.get("token");
      await api(request(server.app), "post", "/api/password/reset", { token, password: OTHER_PASSWORD }).expect(200);
      await loginViaApi(server.app, "reset@example.com", OTHER_PASSWORD);
    });
  });

  it("turning it on ends the sessions of accounts that never confirmed their address (no half-open state)", async () => {
    const server = await startTestServer();
    try {
      const registered = await api(request(server.app), "post", "/api/register", { email: "before@example.com", password: GOOD_PASSWORD }).expect(201);
      const cookie = sessionCookieOf(registered) as string;
      expect((await api(request(server.app), "get", "/api/me").set("Cookie", cookie)).status).toBe(200);
      const strict = createApp({
        ...server.backends,
        config: { ...server.config, emailVerification: "required" },
        secrets: [TEST_SECRET],
        logger: createLogger({ level: "silent" }),
        processMetrics: false,
      });
      expect((await api(request(strict.app), "get", "/api/me").set("Cookie", cookie)).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
