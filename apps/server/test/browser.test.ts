/**
 * The reference server in a real browser: Debian's Chromium driven by playwright-core against createApp served over
 * HTTPS (self-signed certificate, TRUST_PROXY off, COOKIE_SECURE=auto). What only a browser can show: the cookie
 * jar's view of the session cookie, JavaScript's view of it, cookie persistence, the back button after logout, and
 * what the pages look like (screenshots: into docs/screenshots/ with UPDATE_SCREENSHOTS=1, else a temporary folder).
 *
 * One browser for the whole file; each test opens at most two contexts and closes them.
 */
import path from "node:path";
import type { Browser, BrowserContext, Cookie, Page, Response } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  SCREENSHOT_DIR,
  chromiumAvailable,
  createAccount as createAccountIn,
  fetchWithCookie,
  logInThroughForm,
  newDesktopContext,
  newPhoneContext,
  sessionCookie,
  startServerAndBrowser,
  type BrowserTestServer,
} from "./browser-helpers.js";
import { GOOD_PASSWORD, OTHER_PASSWORD } from "./helpers.js";

const MINUTE = 60_000;
/** A fixed start, so the times on the pages (and in the screenshots) are the same on every run. */
const START = Date.UTC(2026, 4, 4, 9, 0, 0);

/** The bare ticket inside a cookie value (`s%3A<ticket>.<mac>`). */
function ticketOf(cookieValue: string): string {
  return decodeURIComponent(cookieValue).slice(2).split(".")[0] as string;
}

/** What the browser saw on the wire, searched at the end for leaked tickets. */
interface Traffic {
  urls: string[];
  locations: string[];
  bodies: string[];
  /** Every ticket any Set-Cookie handed to the browser, rotated-away ones included. */
  tickets: Set<string>;
}

describe.skipIf(!chromiumAvailable())("browser: Chromium against the HTTPS server", { timeout: 60_000 }, () => {
  let browser: Browser;
  let server: BrowserTestServer;
  const contexts: BrowserContext[] = [];
  const traffic: Traffic = { urls: [], locations: [], bodies: [], tickets: new Set() };
  const pendingReads: Array<Promise<void>> = [];

  async function record(response: Response): Promise<void> {
    traffic.urls.push(response.url());
    for (const { name, value } of await response.headersArray()) {
      if (name.toLowerCase() === "location") traffic.locations.push(value);
      const issued = name.toLowerCase() === "set-cookie" ? /^(?:__Host-)?sid=([^;]+)/i.exec(value) : null;
      if (issued?.[1]) traffic.tickets.add(ticketOf(issued[1]));
    }
    const redirect = response.status() >= 300 && response.status() < 400;
    if (!redirect && ["document", "fetch", "xhr"].includes(response.request().resourceType())) {
      traffic.bodies.push(await response.text().catch(() => ""));
    }
  }

  /** Every context goes through here, so all its traffic is recorded. */
  function track(context: BrowserContext): BrowserContext {
    contexts.push(context);
    context.on("response", (response) => void pendingReads.push(record(response)));
    return context;
  }

  beforeAll(async () => {
    ({ server, browser } = await startServerAndBrowser(START));
  });

  afterEach(async () => {
    await Promise.allSettled(pendingReads.splice(0));
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (p: string): string => `${server.httpsOrigin}${p}`;

  const createAccount = (email: string): Promise<void> => createAccountIn(server, email);

  async function desktop(): Promise<{ context: BrowserContext; page: Page }> {
    const context = track(await newDesktopContext(browser));
    return { context, page: await context.newPage() };
  }

  async function phone(): Promise<{ context: BrowserContext; page: Page }> {
    const context = track(await newPhoneContext(browser));
    return { context, page: await context.newPage() };
  }

  /** GET /api/me outside the browser with exactly this cookie (to replay a captured one). */
  async function apiMe(cookie: Cookie | undefined): Promise<{ status: number; body: string }> {
    expect(cookie).toBeDefined();
    return fetchWithCookie(url("/api/me"), `${cookie?.name}=${cookie?.value}`);
  }

  /** The server's verdict on a captured cookie: 200 alive, 401 dead. */
  async function replay(cookie: Cookie | undefined): Promise<number> {
    return (await apiMe(cookie)).status;
  }

  /** Save a PNG of the page and check its size (the PNG header holds width and height at bytes 16 and 20). */
  async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
    const png = await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: options.fullPage ?? false });
    const viewport = page.viewportSize();
    expect(png.readUInt32BE(16)).toBe(viewport?.width);
    if (!options.fullPage) expect(png.readUInt32BE(20)).toBe(viewport?.height);
  }

  /** Fill and submit the login form; resolves once the redirect has landed. */
  const logIn = (page: Page, email: string, options: { remember?: boolean; password?: string } = {}): Promise<void> => logInThroughForm(page, server, email, options);

  async function expectLoginPage(page: Page): Promise<void> {
    expect(new URL(page.url()).pathname).toBe("/login");
    await expect.poll(() => page.locator("h1").textContent()).toBe("Log in");
  }

  it("registers a new user through the form and lands on the dashboard", async () => {
    const { context, page } = await desktop();
    await page.goto(url("/register"));
    await expect.poll(() => page.locator("h1").textContent()).toBe("Create an account");
    await screenshot(page, "register.png");

    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await Promise.all([page.waitForURL(/\/dashboard\?notice=welcome$/), page.getByRole("button", { name: "Create account" }).click()]);
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Your account is ready.");
    expect(await page.locator("main").textContent()).toContain("ada@example.com");
    expect(sessionCookie(await context.cookies())).toBeDefined();
  });

  it("logs in through the form; the dashboard shows who you are and this session's created, last-seen and expiry times", async () => {
    await createAccount("grace@example.com");
    const { page } = await phone();
    await page.goto(url("/login"));
    await expect.poll(() => page.locator("h1").textContent()).toBe("Log in");
    await screenshot(page, "login-phone.png");

    const loginAt = server.clock.now();
    await page.getByLabel("Email").fill("grace@example.com");
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await Promise.all([page.waitForURL(/\/dashboard$/), page.getByRole("button", { name: "Log in" }).click()]);

    const main = page.locator("main");
    expect(await main.locator("dl").first().textContent()).toContain("grace@example.com");
    const session = main.locator("section", { hasText: "This session" });
    const times = async (label: string): Promise<string | null> =>
      session.locator(`dt:text-is("${label}") + dd time`).getAttribute("datetime");
    const iso = (ms: number): string => new Date(ms).toISOString();
    expect(await times("Signed in")).toBe(iso(loginAt));
    expect(await times("Last seen")).toBe(iso(loginAt));
    // A browser-session login: idle timeout 30 min, absolute 12 h (the server defaults).
    expect(await times("Expires")).toBe(iso(loginAt + 30 * MINUTE));
    expect(await times("Ends at the latest")).toBe(iso(loginAt + 12 * 60 * MINUTE));
    expect(await session.textContent()).toContain("Ends when the browser closes");
  });

  it("the session cookie is __Host-sid: Secure, HttpOnly, SameSite=Lax, Path=/, host-only, and invisible to JavaScript", async () => {
    await createAccount("cookie@example.com");
    const { context, page } = await desktop();
    await logIn(page, "cookie@example.com");

    const cookies = await context.cookies();
    const sid = sessionCookie(cookies);
    expect(sid).toMatchObject({ name: "__Host-sid", secure: true, httpOnly: true, sameSite: "Lax", path: "/", domain: "localhost" });
    // Host-only: Playwright reports a Domain-attribute cookie with a leading dot; ours has none.
    expect(sid?.domain.startsWith(".")).toBe(false);
    expect(cookies.filter((c) => c.name.toLowerCase().includes("sid"))).toHaveLength(1);
    // The opaque signed ticket, nothing else (no email, no user id), far below the 4096-byte name+value limit.
    expect(sid?.value).toMatch(/^s%3A[\w-]{43}\.[\w+/%]{30,}$/);
    expect(decodeURIComponent(sid?.value ?? "")).not.toContain("cookie@example.com");
    expect(Buffer.byteLength(`${sid?.name}=${sid?.value}`)).toBeLessThan(200);

    // HttpOnly in practice: page JavaScript sees no session cookie, and nothing was put in web storage.
    expect(await page.evaluate<string>("document.cookie")).not.toContain("sid");
    expect(await page.evaluate<number>("localStorage.length + sessionStorage.length")).toBe(0);
    // Nor does the page carry the ticket.
    expect(await page.content()).not.toContain(ticketOf(sid?.value ?? ""));
  });

  it("over plain HTTP (no trusted proxy) the cookie is sid without Secure, even with a spoofed X-Forwarded-Proto", async () => {
    const context = track(await newDesktopContext(browser, { extraHTTPHeaders: { "X-Forwarded-Proto": "https" } }));
    const page = await context.newPage();
    await page.goto(`${server.httpOrigin}/login`);
    const sid = sessionCookie(await context.cookies());
    expect(sid).toMatchObject({ name: "sid", secure: false, httpOnly: true, sameSite: "Lax", path: "/" });
  });

  it("\"remember me\" gives a persistent cookie; unchecked gives a browser-session cookie", async () => {
    await createAccount("remember@example.com");
    const { context, page } = await desktop();

    await logIn(page, "remember@example.com");
    expect(sessionCookie(await context.cookies())?.expires).toBe(-1);

    await Promise.all([page.waitForURL(/\/login\?notice=logged-out$/), page.getByRole("button", { name: "Log out", exact: true }).click()]);
    await logIn(page, "remember@example.com", { remember: true });
    const persistent = sessionCookie(await context.cookies());
    // Max-Age = SESSION_REMEMBER_TIMEOUT (12 h); the browser counts from its own (real) clock.
    const secondsLeft = (persistent?.expires ?? 0) - Date.now() / 1000;
    expect(secondsLeft).toBeGreaterThan(12 * 3600 - 120);
    expect(secondsLeft).toBeLessThanOrEqual(12 * 3600 + 1);
    expect(await page.locator("main").textContent()).toContain("Remembered on this device");
  });

  it("two devices: /devices marks this one; revoking the other (after re-authenticating) logs it out", async () => {
    await createAccount("two@example.com");
    const laptop = await desktop();
    const handset = await phone();
    await logIn(laptop.page, "two@example.com");
    server.clock.advance(3 * MINUTE);
    await logIn(handset.page, "two@example.com", { remember: true });
    server.clock.advance(2 * MINUTE);

    await laptop.page.goto(url("/devices"));
    const items = laptop.page.locator("ul.sessions > li");
    await expect.poll(() => items.count()).toBe(2);
    const current = items.filter({ has: laptop.page.locator(".badge", { hasText: "This device" }) });
    const other = items.filter({ hasNot: laptop.page.locator(".badge") });
    expect(await current.count()).toBe(1);
    expect(await current.locator("strong").textContent()).toBe("Chrome on Linux");
    expect(await other.locator("strong").textContent()).toBe("Safari on iOS");
    await screenshot(laptop.page, "devices.png", { fullPage: true });

    // The password was typed 5 minutes ago; 15 minutes later (REAUTH_WINDOW) revoking needs it again.
    server.clock.advance(15 * MINUTE);
    await handset.page.reload();
    expect(new URL(handset.page.url()).pathname).toBe("/dashboard");

    await laptop.page.reload();
    await Promise.all([laptop.page.waitForURL(/\/reauth\?returnTo=\/devices$/), other.getByRole("button", { name: "Revoke" }).click()]);
    const beforeReauth = sessionCookie(await laptop.context.cookies());
    await laptop.page.getByLabel("Password").fill(GOOD_PASSWORD);
    await Promise.all([laptop.page.waitForURL((u) => u.pathname === "/devices"), laptop.page.getByRole("button", { name: "Confirm", exact: true }).click()]);
    await expect.poll(() => items.count()).toBe(2);
    // Re-authentication issued a new ticket, killed the old one, and restarted the absolute lifetime (63B-4 §5.2).
    expect(sessionCookie(await laptop.context.cookies())?.value).not.toBe(beforeReauth?.value);
    expect(await replay(beforeReauth)).toBe(401);
    const me = JSON.parse((await apiMe(sessionCookie(await laptop.context.cookies()))).body) as { session: { absoluteExpiresAt: number } };
    expect(me.session.absoluteExpiresAt).toBe(server.clock.now() + 12 * 60 * MINUTE);
    await Promise.all([laptop.page.waitForURL(/\/devices\?notice=revoked$/), other.getByRole("button", { name: "Revoke" }).click()]);
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.locator(".badge").textContent()).toBe("This device");

    // The phone's next request finds no session.
    const revokedCookie = sessionCookie(await handset.context.cookies());
    await handset.page.reload();
    await expectLoginPage(handset.page);
    expect(await handset.page.getByRole("status").textContent()).toBe("Your session has ended. Please log in again.");
    // And the captured cookie is dead on the server, not merely dropped by the browser.
    expect(await replay(revokedCookie)).toBe(401);
  });

  it("\"log out everywhere else\" ends every other session and keeps this one", async () => {
    await createAccount("everywhere@example.com");
    const a = await desktop();
    const b = await phone();
    await logIn(a.page, "everywhere@example.com");
    await logIn(b.page, "everywhere@example.com");

    await a.page.goto(url("/devices"));
    await expect.poll(() => a.page.locator("ul.sessions > li").count()).toBe(2);
    await Promise.all([
      a.page.waitForURL(/\/devices\?notice=revoked-others$/),
      a.page.getByRole("button", { name: "Log out everywhere else" }).click(),
    ]);
    expect(await a.page.getByRole("status").textContent()).toBe("All your other sessions have been logged out.");
    expect(await a.page.locator("ul.sessions > li").count()).toBe(1);

    await b.page.reload();
    await expectLoginPage(b.page);
    await a.page.goto(url("/dashboard"));
    expect(new URL(a.page.url()).pathname).toBe("/dashboard");
  });

  it("changing the password keeps this device signed in and logs out the other", async () => {
    await createAccount("change@example.com");
    const a = await desktop();
    const b = await phone();
    await logIn(a.page, "change@example.com");
    await logIn(b.page, "change@example.com");
    const before = sessionCookie(await a.context.cookies());

    await a.page.goto(url("/password"));
    await expect.poll(() => a.page.locator("h1").textContent()).toBe("Change password");
    await screenshot(a.page, "password.png");
    await a.page.getByLabel("Current password").fill(GOOD_PASSWORD);
    await a.page.getByLabel("New password").fill(OTHER_PASSWORD);
    // The form as a browser submits it: every named field, the hidden username for password managers included.
    const [response] = await Promise.all([
      a.page.waitForResponse((r) => new URL(r.url()).pathname === "/password" && r.request().method() === "POST"),
      a.page.getByRole("button", { name: "Change password" }).click(),
    ]);
    const refused = response.status() === 303 ? "" : await a.page.locator(".error").textContent();
    expect(`${response.status()} ${refused}`.trim(), "POST /password from the real form").toBe("303");
    await a.page.waitForURL(/\/dashboard\?notice=password-changed$/);
    // This device got a new ticket and stays in; its old ticket is dead.
    const after = sessionCookie(await a.context.cookies());
    expect(after?.value).not.toBe(before?.value);
    expect(await replay(after)).toBe(200);
    expect(await replay(before)).toBe(401);

    await b.page.reload();
    await expectLoginPage(b.page);
  });

  it("logs out; the back button then re-requests the dashboard (no-store) and gets the login page", async () => {
    await createAccount("back@example.com");
    const { context, page } = await desktop();
    await logIn(page, "back@example.com");
    await expect.poll(() => page.locator("h1").textContent()).toBe("Dashboard");
    await screenshot(page, "dashboard.png");
    const loggedIn = sessionCookie(await context.cookies());

    await Promise.all([page.waitForURL(/\/login\?notice=logged-out$/), page.getByRole("button", { name: "Log out", exact: true }).click()]);
    expect(await page.getByRole("status").textContent()).toBe("You have been logged out.");
    // The logged-in cookie is gone from the jar (the login page may have started a fresh pre-session).
    expect(sessionCookie(await context.cookies())?.value).not.toBe(loggedIn?.value);
    // And it is dead on the server.
    expect(await replay(loggedIn)).toBe(401);

    const requested: string[] = [];
    page.on("request", (req) => requested.push(new URL(req.url()).pathname));
    await page.goBack();
    await page.waitForLoadState("load");
    // Cache-Control: no-store made the browser ask the server again instead of showing the stored page...
    expect(requested).toContain("/dashboard");
    // ...and the server sent it to the login page.
    await expectLoginPage(page);
    expect(await page.locator("body").textContent()).not.toContain("back@example.com");
  });

  it("no ticket the browser was given ever shows up in a URL, a Location header, a page body or the server's logs", () => {
    // Runs last: it searches what every test above put on the wire.
    expect(traffic.tickets.size).toBeGreaterThan(10);
    expect(traffic.bodies.length).toBeGreaterThan(10);
    const logs = server.logs.join("\n");
    expect(logs).toContain("login.success");
    for (const secret of [GOOD_PASSWORD, OTHER_PASSWORD]) expect(logs).not.toContain(secret);
    for (const ticket of traffic.tickets) {
      for (const u of [...traffic.urls, ...traffic.locations]) expect(decodeURIComponent(u)).not.toContain(ticket);
      for (const body of traffic.bodies) expect(body).not.toContain(ticket);
      expect(logs).not.toContain(ticket);
    }
  });
});
