import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, browserGet, browserPost, csrfTokenOf, loginViaApi, registerViaApi, sessionCookieOf, startTestServer, type TestServer } from "./helpers.js";

describe("HTML pages", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await registerViaApi(server.app, "page@example.com");
  });
  afterAll(() => server.close());

  it("GET / sends anonymous visitors to the login page, which has a CSRF token and remember me", async () => {
    const agent = request.agent(server.app);
    const root = await browserGet(agent, "/");
    expect(root.status).toBe(303);
    expect(root.headers.location).toBe("/login");
    const page = await browserGet(agent, "/login");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.text).toContain('name="remember"');
    expect(page.text).toContain('name="viewport"');
    expect(csrfTokenOf(page.text)).toMatch(/^[\w-]{20,}$/);
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
  });

  it("login form: token required, ticket and CSRF token rotate at login, dashboard shows the session", async () => {
    const agent = request.agent(server.app);
    const loginPage = await browserGet(agent, "/login");
    const preToken = csrfTokenOf(loginPage.text);
    const preCookie = sessionCookieOf(loginPage);
    expect(preCookie).not.toBeNull();

    const noToken = await browserPost(agent, "/login", { email: "page@example.com", password: GOOD_PASSWORD });
    expect(noToken.status).toBe(403);

    const ok = await browserPost(agent, "/login", { _csrf: preToken, email: "page@example.com", password: GOOD_PASSWORD, remember: "on" });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/dashboard");
    const postCookie = sessionCookieOf(ok);
    expect(postCookie).not.toBeNull();
    expect(postCookie).not.toBe(preCookie);
    // The pre-login ticket is dead.
    expect((await request(server.app).get("/dashboard").set("Cookie", preCookie as string)).status).toBe(401);

    const dashboard = await browserGet(agent, "/dashboard");
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain("page@example.com");
    expect(dashboard.text).toContain("Remembered on this device");
    expect(csrfTokenOf(dashboard.text)).not.toBe(preToken);
  });

  it("a failed login re-renders the form with a clear message and 401", async () => {
    const agent = request.agent(server.app);
    const token = csrfTokenOf((await browserGet(agent, "/login")).text);
    const res = await browserPost(agent, "/login", { _csrf: token, email: "page@example.com", password: "wrong wrong wrong wrong" });
    expect(res.status).toBe(401);
    expect(res.text).toContain("Invalid email or password.");
    expect(res.text).toContain('value="page@example.com"');
  });

  it("register page creates an account and signs in; errors are explained", async () => {
    const agent = request.agent(server.app);
    const token = csrfTokenOf((await browserGet(agent, "/register")).text);
    const weak = await browserPost(agent, "/register", { _csrf: token, email: "new-page@example.com", password: "short" });
    expect(weak.status).toBe(400);
    expect(weak.text).toMatch(/class="error"/);
    const ok = await browserPost(agent, "/register", { _csrf: token, email: "new-page@example.com", password: GOOD_PASSWORD });
    expect(ok.status).toBe(303);
    expect((await browserGet(agent, "/dashboard")).status).toBe(200);
  });

  it("devices page lists sessions with 'This device', revokes one and the others", async () => {
    await registerViaApi(server.app, "dev-page@example.com");
    const other = await loginViaApi(server.app, "dev-page@example.com");
    const agent = request.agent(server.app);
    const token = csrfTokenOf((await browserGet(agent, "/login")).text);
    await browserPost(agent, "/login", { _csrf: token, email: "dev-page@example.com", password: GOOD_PASSWORD }).expect(303);
    const devices = await browserGet(agent, "/devices").set("User-Agent", "Mozilla/5.0 (Android 14) Firefox/130.0");
    expect(devices.status).toBe(200);
    expect(devices.text).toContain("This device");
    expect(devices.text.match(/<li>/g)?.length).toBe(3);
    const csrf = csrfTokenOf(devices.text);
    const res = await browserPost(agent, "/devices/revoke-others", { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/devices?notice=revoked-others");
    expect((await other.get("/dashboard")).status).toBe(401);
    expect((await browserGet(agent, "/dashboard")).status).toBe(200);
  });

  it("change password page requires the current password", async () => {
    const agent = request.agent(server.app);
    const token = csrfTokenOf((await browserGet(agent, "/login")).text);
    await registerViaApi(server.app, "pw-page@example.com");
    await browserPost(agent, "/login", { _csrf: token, email: "pw-page@example.com", password: GOOD_PASSWORD }).expect(303);
    const csrf = csrfTokenOf((await browserGet(agent, "/password")).text);
    const wrong = await browserPost(agent, "/password", { _csrf: csrf, currentPassword: "nope nope nope nope", newPassword: "amber falcon river glass" });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain("The current password is not correct");
    const ok = await browserPost(agent, "/password", { _csrf: csrf, currentPassword: GOOD_PASSWORD, newPassword: "amber falcon river glass" });
    expect(ok.status).toBe(303);
  });

  it("logout page: destroys the session, clears the cookie, Clear-Site-Data, redirects to login", async () => {
    const agent = request.agent(server.app);
    const token = csrfTokenOf((await browserGet(agent, "/login")).text);
    await browserPost(agent, "/login", { _csrf: token, email: "page@example.com", password: GOOD_PASSWORD }).expect(303);
    const csrf = csrfTokenOf((await browserGet(agent, "/dashboard")).text);
    const res = await browserPost(agent, "/logout", { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/login?notice=logged-out");
    expect(res.headers["clear-site-data"]).toContain('"cookies"');
    expect(String(res.headers["set-cookie"])).toMatch(/Max-Age=0/i);
    const after = await browserGet(agent, "/dashboard");
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe("/login?notice=session-ended");
  });
});
