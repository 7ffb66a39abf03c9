/**
 * Passkeys and password recovery in a real browser: Debian's Chromium (playwright-core) against the HTTPS server of
 * browser-helpers.ts, with PUBLIC_URL = https://localhost:<port> (an RP ID must be a host name, never an IP). Each page
 * gets a virtual authenticator through the DevTools Protocol (WebAuthn.enable, WebAuthn.addVirtualAuthenticator: CTAP2,
 * internal transport, resident keys, user verification that succeeds), so the pages' real script runs the real
 * ceremonies. Mail goes to the development outbox, where the test reads the link. Screenshots of the new pages go to
 * docs/screenshots/ like the other browser tests'.
 */
import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import type { Browser, BrowserContext, CDPSession, Cookie, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { outboxDir } from "../src/mail/mailer.js";
import {
  SCREENSHOT_DIR,
  chromiumAvailable,
  createAccount as createAccountIn,
  fetchWithCookie,
  logInThroughForm,
  newDesktopContext,
  sessionCookie,
  startServerAndBrowser,
  type BrowserTestServer,
} from "./browser-helpers.js";
import { GOOD_PASSWORD } from "./helpers.js";

const MINUTE = 60_000;
const START = Date.UTC(2026, 4, 4, 9, 0, 0);
const NEW_PASSWORD = "saffron harbour kite evening";

describe.skipIf(!chromiumAvailable())("browser: passkeys and password reset in Chromium", { timeout: 60_000 }, () => {
  let browser: Browser;
  let server: BrowserTestServer;
  const contexts: BrowserContext[] = [];
  /** Console errors and uncaught exceptions of every page (a CSP violation shows up here). */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ server, browser } = await startServerAndBrowser(START));
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (p: string): string => `${server.httpsOrigin}${p}`;

  async function desktopPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newDesktopContext(browser);
    contexts.push(context);
    const page = await context.newPage();
    // Refused loads (the favicon's 404, a 400 page, the 401 of a refused passkey) are answers, not errors.
    page.on("console", (m) => void (m.type() === "error" && !m.text().startsWith("Failed to load resource") && pageErrors.push(m.text())));
    page.on("pageerror", (e) => void pageErrors.push(e.message));
    return { context, page };
  }

  /** A platform authenticator for this page, as a phone's or laptop's built-in one behaves. */
  async function addAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { cdp, authenticatorId };
  }

  const createAccount = (email: string): Promise<void> => createAccountIn(server, email);
  const logIn = (page: Page, email: string, password = GOOD_PASSWORD): Promise<void> => logInThroughForm(page, server, email, { password });

  async function logOut(page: Page): Promise<void> {
    await Promise.all([page.waitForURL(/\/login\?notice=logged-out$/), page.getByRole("button", { name: "Log out", exact: true }).click()]);
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: true });
  }

  const replay = async (cookie: Cookie | undefined): Promise<number> => (await fetchWithCookie(url("/api/me"), `${cookie?.name}=${cookie?.value}`)).status;

  it("adds a passkey, signs in with it like a password login, re-authenticates with it, and a removed passkey is refused", async () => {
    await createAccount("pat@example.com");
    const { context, page } = await desktopPage();
    const { cdp, authenticatorId } = await addAuthenticator(page);
    await logIn(page, "pat@example.com");

    await page.goto(url("/passkeys"));
    await expect.poll(() => page.locator("h1").textContent()).toBe("Passkeys");
    await page.getByLabel("Name").fill("Laptop");
    await Promise.all([page.waitForURL(/\/passkeys\?notice=passkey-added$/), page.getByRole("button", { name: "Add a passkey" }).click()]);
    expect(await page.locator("ul.sessions > li strong").allTextContents()).toEqual(["Laptop"]);
    // The authenticator holds one discoverable credential for RP ID localhost.
    const held = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(held.credentials).toHaveLength(1);
    expect(held.credentials[0]).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
    await screenshot(page, "passkeys.png");

    // Sign in with it: no email typed. The pre-login ticket is replaced, as at a password login.
    await logOut(page);
    const preLogin = sessionCookie(await context.cookies());
    server.clock.advance(MINUTE);
    await Promise.all([page.waitForURL(/\/dashboard$/), page.getByRole("button", { name: "Sign in with a passkey" }).click()]);
    const signedIn = sessionCookie(await context.cookies());
    expect(signedIn?.value).not.toBe(preLogin?.value);
    expect(await replay(preLogin)).toBe(401);
    expect(await replay(signedIn)).toBe(200);
    const session = page.locator("section", { hasText: "This session" });
    expect(await session.locator('dt:text-is("Signed in with") + dd').textContent()).toBe("Passkey");
    await page.goto(url("/devices"));
    expect(await page.locator('ul.sessions > li dt:text-is("Signed in with") + dd').allTextContents()).toEqual(["Passkey"]);
    expect(server.logs.some((l) => l.includes('"event":"login.success"') && l.includes('"method":"passkey"'))).toBe(true);
    // Counter and last use are kept.
    const pat = await server.users.findUserByEmail("pat@example.com");
    const [stored] = await server.passkeys.listUserPasskeys(pat!.id);
    expect(stored).toMatchObject({ name: "Laptop", lastUsedAt: server.clock.now(), transports: expect.arrayContaining(["internal"]) });

    // 16 minutes later removing it needs a re-authentication: "Confirm with a passkey" does it, with a new ticket.
    server.clock.advance(16 * MINUTE);
    await page.goto(url("/passkeys"));
    await Promise.all([page.waitForURL(/\/reauth\?returnTo=\/passkeys$/), page.getByRole("button", { name: "Remove" }).click()]);
    const beforeReauth = sessionCookie(await context.cookies());
    await Promise.all([page.waitForURL((u) => u.pathname === "/passkeys"), page.getByRole("button", { name: "Confirm with a passkey" }).click()]);
    expect(sessionCookie(await context.cookies())?.value).not.toBe(beforeReauth?.value);
    await Promise.all([page.waitForURL(/\/passkeys\?notice=passkey-removed$/), page.getByRole("button", { name: "Remove" }).click()]);
    expect(await page.locator("ul.sessions > li").count()).toBe(0);

    // The authenticator still offers the credential; the server no longer knows it.
    await logOut(page);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => page.locator("#passkey-error").textContent()).toContain("This passkey is not recognised here");
    expect(new URL(page.url()).pathname).toBe("/login");
    expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials).toHaveLength(1);
    expect(server.logs.some((l) => l.includes('"event":"login.failure"') && l.includes('"reason":"unknown_passkey"'))).toBe(true);
  });

  it("resets a forgotten password with the mailed link, then logs in with the new password", async () => {
    await createAccount("forgot@example.com");
    const { page } = await desktopPage();
    await page.goto(url("/login"));
    await Promise.all([page.waitForURL(/\/forgot-password$/), page.getByRole("link", { name: "Forgot your password?" }).click()]);
    await page.getByLabel("Email").fill("forgot@example.com");
    await screenshot(page, "forgot-password.png");
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check your inbox");

    await server.background.drain();
    const dir = outboxDir(server.dataDir);
    const file = fs.readdirSync(dir).find((f) => f.includes("password_reset"));
    const mail = await simpleParser(fs.readFileSync(path.join(dir, file as string)));
    const link = /https:\/\/\S+\/reset-password\?token=[\w-]+/.exec(mail.text ?? "")?.[0] as string;
    expect(link.startsWith(`${server.httpsOrigin}/reset-password?token=`)).toBe(true);

    await page.goto(link);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Choose a new password");
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await screenshot(page, "reset-password.png");
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/reset-password" && r.request().method() === "POST"),
      page.getByRole("button", { name: "Set the new password" }).click(),
    ]);
    // On a refusal, say which page came back (the error shown) rather than time out waiting for the redirect.
    const refused = response.status() === 303 ? "" : `${await response.text()}`.replace(/\s+/g, " ").slice(0, 600);
    expect(`${response.status()} ${refused}`.trim(), "POST /reset-password from the real form").toBe("303");
    await page.waitForURL(/\/login\?notice=password-reset$/);
    expect(await page.getByRole("status").textContent()).toContain("Your password has been reset");
    // The link was used up; the new password works.
    await page.goto(link);
    await expect.poll(() => page.locator("h1").textContent()).toBe("This link does not work");
    await logIn(page, "forgot@example.com", NEW_PASSWORD);
  });

  it("no page logged a console error or broke the CSP", () => {
    expect(pageErrors, pageErrors.join("\n")).toEqual([]);
  });
});
