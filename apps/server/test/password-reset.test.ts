/**
 * Password reset end to end: the app sends its mails over SMTP (nodemailer) to a real SMTP server (smtp-server, see
 * smtp-catcher.ts), and the tests follow the link they find in the received mail.
 */
import fs from "node:fs";
import path from "node:path";
import request from "supertest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashEmailToken } from "../src/users/tokens.js";
import { linkIn, startSmtpCatcher, type SmtpCatcher } from "./smtp-catcher.js";
import { GOOD_PASSWORD, OTHER_PASSWORD, api, browserGet, browserPost, csrfTokenOf, loginViaApi, registerViaApi, sessionCookieOf, setCookies, startTestServer, type TestServer } from "./helpers.js";

const PUBLIC_URL = "https://auth.example.test";
const MINUTE = 60_000;
const NEW_PASSWORD = "saffron harbour kite evening";

/** The path and query of a mailed link, to request it from the app under test. */
function pathOf(link: string): string {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
}

function tokenOf(link: string): string {
  return new URL(link).searchParams.get("token") ?? "";
}

describe("password reset by mail", () => {
  let catcher: SmtpCatcher;
  let server: TestServer;
  let clock = Date.now();

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    server = await startTestServer({ env: { SMTP_URL: catcher.url, PUBLIC_URL, MAIL_FROM: "Cloakroom <no-reply@auth.example.test>" }, now: () => clock });
  });
  afterAll(async () => {
    await server.close();
    await catcher.close();
  });
  afterEach(() => server.background.drain());

  /** Ask for a link through the API and return the one that arrived. */
  async function mailedLink(email: string): Promise<string> {
    const before = catcher.mailsTo(email).length;
    expect((await api(request(server.app), "post", "/api/password/forgot", { email })).status).toBe(202);
    await server.background.drain();
    const mails = catcher.mailsTo(email);
    expect(mails).toHaveLength(before + 1);
    return linkIn(mails.at(-1), "/reset-password");
  }

  it("mails a link that sets the new password once, ends every session, mails 'password changed' and signs no one in", async () => {
    const phone = await registerViaApi(server.app, "alice@example.com");
    const laptop = await loginViaApi(server.app, "alice@example.com");

    const asked = await api(request(server.app), "post", "/api/password/forgot", { email: "Alice@Example.com" });
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({ ok: true, message: expect.stringContaining("If an account exists for that address") });
    await server.background.drain();
    const [mail] = catcher.mailsTo("alice@example.com");
    expect(mail).toMatchObject({ from: expect.stringContaining("no-reply@auth.example.test"), subject: "Reset your Cloakroom password" });
    const link = linkIn(mail, "/reset-password");
    expect(link).toMatch(/^https:\/\/auth\.example\.test\/reset-password\?token=[\w-]{43}$/);
    const token = tokenOf(link);

    // Stored only as SHA-256: the raw token is nowhere in the database files, its hash is.
    const files = fs.readdirSync(server.dataDir).filter((f) => f.startsWith("cloakroom.db"));
    const bytes = files.map((f) => fs.readFileSync(path.join(server.dataDir, f)).toString("latin1")).join("");
    expect(bytes).not.toContain(token);
    expect(bytes).toContain(hashEmailToken(token));

    // Opening the link (a person, or a mail scanner) does not use it up.
    for (let i = 0; i < 2; i++) {
      const page = await browserGet(request.agent(server.app), pathOf(link));
      expect(page.status).toBe(200);
      expect(page.text).toContain("Choose a new password");
      expect(page.headers["referrer-policy"]).toBe("strict-origin");
    }

    const reset = await api(request(server.app), "post", "/api/password/reset", { token, password: NEW_PASSWORD });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ ok: true });
    expect(sessionCookieOf(reset)).toBeNull();
    // Every session of the account is over.
    expect((await api(phone, "get", "/api/me")).status).toBe(401);
    expect((await api(laptop, "get", "/api/me")).status).toBe(401);
    // Once only.
    const again = await api(request(server.app), "post", "/api/password/reset", { token, password: OTHER_PASSWORD });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_or_expired_token");
    expect((await browserGet(request.agent(server.app), pathOf(link))).status).toBe(400);

    // The new password works, the old one no longer does; the owner was told.
    expect((await api(request(server.app), "post", "/api/login", { email: "alice@example.com", password: GOOD_PASSWORD })).status).toBe(401);
    await loginViaApi(server.app, "alice@example.com", NEW_PASSWORD);
    await server.background.drain();
    expect(catcher.mailsTo("alice@example.com").map((m) => m.subject)).toEqual(["Reset your Cloakroom password", "Your Cloakroom password was changed"]);
    // No token in any log line.
    expect(server.logs.join("\n")).not.toContain(token);
    expect(server.logs.join("\n")).toContain('"event":"password.reset"');
  });

  it("pages: the login page links to it; a weak password is refused without burning the link; success sends you to log in", async () => {
    await registerViaApi(server.app, "pages@example.com");
    const agent = request.agent(server.app);
    const login = await browserGet(agent, "/login");
    expect(login.text).toContain('href="/forgot-password"');
    const forgot = await browserGet(agent, "/forgot-password");
    const sent = await browserPost(agent, "/forgot-password", { _csrf: csrfTokenOf(forgot.text), email: "pages@example.com" });
    expect(sent.status).toBe(200);
    expect(sent.text).toContain("Check your inbox");
    await server.background.drain();
    const link = linkIn(catcher.mailsTo("pages@example.com").at(-1), "/reset-password");

    const form = await browserGet(agent, pathOf(link));
    expect(form.text).toContain("pages@example.com");
    const weak = await browserPost(agent, "/reset-password", { _csrf: csrfTokenOf(form.text), token: tokenOf(link), password: "password12345678" });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('class="error"');
    const done = await browserPost(agent, "/reset-password", { _csrf: csrfTokenOf(weak.text), token: tokenOf(link), password: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe("/login?notice=password-reset");
    // Not signed in.
    expect((await browserGet(agent, "/dashboard")).headers.location).toBe("/login?notice=session-ended");
  });

  it("a weak password through the API is 400 weak_password and the link still works", async () => {
    await registerViaApi(server.app, "weak@example.com");
    const token = tokenOf(await mailedLink("weak@example.com"));
    const weak = await api(request(server.app), "post", "/api/password/reset", { token, password: "short" });
    expect(weak.status).toBe(400);
    expect(weak.body).toMatchObject({ error: "weak_password", reason: "password_too_short" });
    expect((await api(request(server.app), "post", "/api/password/reset", { token, password: NEW_PASSWORD })).status).toBe(200);
  });

  it("a newer request kills the older link, and a link is refused once PASSWORD_RESET_TTL (30 min) has passed", async () => {
    await registerViaApi(server.app, "ttl@example.com");
    const first = tokenOf(await mailedLink("ttl@example.com"));
    const second = tokenOf(await mailedLink("ttl@example.com"));
    const refused = await api(request(server.app), "post", "/api/password/reset", { token: first, password: NEW_PASSWORD });
    expect(refused.body.error).toBe("invalid_or_expired_token");

    clock += 30 * MINUTE + 1000;
    const expired = await api(request(server.app), "post", "/api/password/reset", { token: second, password: NEW_PASSWORD });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe("invalid_or_expired_token");
    // A fresh link works again.
    const third = tokenOf(await mailedLink("ttl@example.com"));
    expect((await api(request(server.app), "post", "/api/password/reset", { token: third, password: NEW_PASSWORD })).status).toBe(200);
  });

  it("an unknown or disabled address answers exactly like a known one, and no mail goes out", async () => {
    await registerViaApi(server.app, "known@example.com");
    await registerViaApi(server.app, "off@example.com");
    const off = await server.backends.users.findUserByEmail("off@example.com");
    await server.backends.users.setUserDisabled(off!.id, true);
    const answer = async (email: string) => {
      const res = await api(request(server.app), "post", "/api/password/forgot", { email });
      const { date: _date, etag: _etag, ...headers } = res.headers;
      return { status: res.status, body: res.body, headers, cookies: setCookies(res) };
    };
    const known = await answer("known@example.com");
    expect(await answer("nobody@example.com")).toEqual(known);
    expect(await answer("off@example.com")).toEqual(known);
    expect(await answer("not an email")).toEqual(known);
    expect(known.status).toBe(202);
    await server.background.drain();
    expect(catcher.mailsTo("known@example.com")).toHaveLength(1);
    expect(catcher.mailsTo("nobody@example.com")).toHaveLength(0);
    expect(catcher.mailsTo("off@example.com")).toHaveLength(0);
  });

  it("bad bodies and bad tokens are clean 4xx", async () => {
    expect((await api(request(server.app), "post", "/api/password/forgot", { email: ["a@example.com"] })).status).toBe(400);
    expect((await api(request(server.app), "post", "/api/password/reset", { token: "x".repeat(43) })).status).toBe(400);
    for (const token of ["", "short", "x".repeat(43), "%00".repeat(20), "../../etc/passwd"]) {
      const res = await api(request(server.app), "post", "/api/password/reset", { token, password: NEW_PASSWORD });
      expect(res.status, token).toBe(400);
      expect(res.body.error).toBe("invalid_or_expired_token");
    }
    expect((await browserGet(request.agent(server.app), "/reset-password")).status).toBe(400);
    expect((await browserGet(request.agent(server.app), "/reset-password?token=a&token=b")).status).toBe(400);
  });
});

describe("password reset limits (MAIL_MAX_PER_ACCOUNT, MAIL_MAX_PER_IP)", () => {
  let catcher: SmtpCatcher;
  let server: TestServer;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    server = await startTestServer({ env: { SMTP_URL: catcher.url, MAIL_MAX_PER_ACCOUNT: "2", MAIL_MAX_PER_IP: "5", TRUST_PROXY: "loopback" } });
    await registerViaApi(server.app, "limited@example.com");
  });
  afterAll(async () => {
    await server.close();
    await catcher.close();
  });

  const forgot = (email: string, ip: string) =>
    api(request(server.app), "post", "/api/password/forgot", { email }).set("X-Forwarded-For", ip);

  it("past the per-account limit the answer is still 202 and the same, but no more mail goes out, whatever the IP", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await forgot("limited@example.com", `198.51.100.${i}`)).body);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    await server.background.drain();
    expect(catcher.mailsTo("limited@example.com")).toHaveLength(2);
    expect(server.logs.join("\n")).toContain('"event":"password_reset.throttled"');
  });

  it("the per-IP limit holds across addresses", async () => {
    for (let i = 0; i < 8; i++) expect((await forgot(`spray${i}@example.com`, "203.0.113.9")).status).toBe(202);
    await server.background.drain();
    const throttled = server.logs.filter((l) => l.includes('"event":"password_reset.throttled"') && l.includes("203.0.113.9"));
    expect(throttled).toHaveLength(3);
  });
});
