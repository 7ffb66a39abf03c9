/**
 * Harness for the browser suite: the real app (createApp) served over HTTPS with a throw-away self-signed
 * certificate (and over plain HTTP for the one test that needs it), a clock the tests move by hand, and Chromium.
 *
 * The clock is injected everywhere a time is shown or enforced (sessions, store, users, re-authentication), and it
 * only moves when a test says so: the re-authentication window can be crossed without waiting, and the screenshots
 * in docs/screenshots/ show the same times on every run instead of churning.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { SqliteStore } from "cloakroom/sqlite";
import { createLoginThrottle } from "cloakroom/auth";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Cookie, type Page } from "playwright-core";
import { createApp, type ServerApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { createMailLimits } from "../src/recovery/mail-limits.js";
import { SqliteUserRepository } from "../src/users/sqlite.js";
import { SqlitePasskeyRepository } from "../src/users/passkeys-sqlite.js";
import { SqliteTokenRepository } from "../src/users/tokens-sqlite.js";
import { GOOD_PASSWORD, TEST_SECRET, api, registerViaApi } from "./helpers.js";

/** Debian's Chromium (never a downloaded browser). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags that keep Chromium quiet on a shared 2-core box: no sandbox (container), no background traffic, no GPU. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-gpu",
];

/**
 * Where the browser tests write their screenshots: docs/screenshots/ (the README's pictures) with
 * UPDATE_SCREENSHOTS=1, else a temporary folder, so a test run leaves the working tree as it found it.
 */
export const SCREENSHOT_DIR =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url))
    : path.join(os.tmpdir(), "cloakroom-screenshots");

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** User agents for the two "devices", so the devices page names them like a real user's phone and laptop. */
export const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
export const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1";

/**
 * Whether the browser suite can run. Outside CI a missing Chromium skips it with one line; with `CI=true` it is an
 * error (CI installs Chromium, so a missing one is a broken image, not a reason to go green).
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === "true") {
    throw new Error(`browser suite: ${CHROMIUM_PATH} not found (CI=true: install it with apt-get install -y chromium)`);
  }
  console.warn(`SKIPPED browser suite: ${CHROMIUM_PATH} not found (apt-get install -y chromium)`);
  return false;
}

/** A clock that stands still until a test moves it. */
export class ManualClock {
  #ms: number;
  constructor(startMs: number) {
    this.#ms = startMs;
  }
  /** The current time in epoch ms (pass `clock.now` wherever a `() => number` is expected). */
  readonly now = (): number => this.#ms;
  /** Move forward by `ms`. */
  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** The app listening on HTTPS and HTTP, and what the tests look at. */
export interface BrowserTestServer extends ServerApp {
  /** `https://localhost:<port>` */
  httpsOrigin: string;
  /** `http://127.0.0.1:<port>` (the same app, plain HTTP, no trusted proxy) */
  httpOrigin: string;
  clock: ManualClock;
  /** Every log line so far. */
  logs: string[];
  /** The data folder (the development outbox is its outbox/). */
  dataDir: string;
  users: SqliteUserRepository;
  passkeys: SqlitePasskeyRepository;
  close(): Promise<void>;
}

/** A self-signed P-256 certificate for localhost and 127.0.0.1, valid two days, made with the openssl CLI. */
function makeCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const keyFile = path.join(dir, "key.pem");
  const certFile = path.join(dir, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ], { stdio: "ignore" });
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Start the app as `npm start` wires it (SQLite users, sessions and login counters in one file; TRUST_PROXY and
 * COOKIE_SECURE at their defaults), with every clock on `clock`, listening on HTTPS and HTTP on loopback.
 */
export async function startBrowserServer(options: { clock: ManualClock; env?: Record<string, string> }): Promise<BrowserTestServer> {
  const { clock } = options;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-browser-"));
  // Listen first: PUBLIC_URL (the origin in mail links, and the passkeys' RP ID and origin) is the HTTPS address.
  const tls = makeCertificate(dataDir);
  const httpsServer = https.createServer({ key: tls.key, cert: tls.cert });
  const httpServer = http.createServer();
  const [httpsPort, httpPort] = await Promise.all([listen(httpsServer), listen(httpServer)]);
  const httpsOrigin = `https://localhost:${httpsPort}`;

  const loaded = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, SESSION_SECRETS: TEST_SECRET, SESSION_STORE: "sqlite", PUBLIC_URL: httpsOrigin, ...options.env });
  if (!loaded.ok) throw new Error(loaded.message);
  const config = loaded.config;
  const database = new Database(path.join(dataDir, "cloakroom.db"));
  database.pragma("journal_mode = WAL");
  const users = new SqliteUserRepository({ database, now: clock.now });
  const tokens = new SqliteTokenRepository({ database });
  const passkeys = new SqlitePasskeyRepository({ database });
  for (const repository of [users, tokens, passkeys]) await repository.migrate();
  const store = new SqliteStore({ database, now: clock.now, sweepInterval: 0 });
  const throttle = createLoginThrottle({ backend: { type: "sqlite", database }, keyPrefix: "browser:login" });
  const mailLimits = createMailLimits({ backend: { type: "sqlite", database }, config, keyPrefix: "browser:" });
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logs.push(line) } });
  const server = createApp({
    config,
    secrets: [TEST_SECRET],
    store,
    users,
    tokens,
    passkeys,
    throttle,
    mailLimits,
    logger,
    checkReady: async () => {},
    processMetrics: false,
    now: clock.now,
  });
  httpsServer.on("request", server.app);
  httpServer.on("request", server.app);

  return {
    ...server,
    httpsOrigin,
    httpOrigin: `http://127.0.0.1:${httpPort}`,
    clock,
    logs,
    dataDir,
    users,
    passkeys,
    async close() {
      await Promise.all([closeServer(httpsServer), closeServer(httpServer)]);
      await server.background.drain();
      server.mailer.close();
      await store.close();
      database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A browser context at desktop size that accepts the self-signed certificate. */
export function newDesktopContext(browser: Browser, extra: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP, userAgent: DESKTOP_UA, ...extra });
}

/** A phone-sized context (390×844, an iPhone user agent, touch). */
export function newPhoneContext(browser: Browser, extra: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: PHONE,
    userAgent: PHONE_UA,
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    ...extra,
  });
}

/**
 * A GET outside the browser, with exactly the Cookie header given (to replay a captured cookie after logout or
 * revocation). Accepts the self-signed certificate.
 */
export function fetchWithCookie(url: string, cookie: string, accept = "application/json"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, headers: { cookie, accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** The suite's server (on `clock`, starting at `startMs`) and Chromium, started side by side. */
export async function startServerAndBrowser(startMs: number): Promise<{ server: BrowserTestServer; browser: Browser }> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const [server, browser] = await Promise.all([
    startBrowserServer({ clock: new ManualClock(startMs) }),
    chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }),
  ]);
  return { server, browser };
}

/** The session cookie as the browser's jar holds it, or undefined. */
export function sessionCookie(cookies: Cookie[]): Cookie | undefined {
  return cookies.find((c) => /^(__Host-)?sid$/i.test(c.name));
}

/** Create an account through the JSON API and end the session registration opened, so only browsers hold one. */
export async function createAccount(server: BrowserTestServer, email: string): Promise<void> {
  const agent = await registerViaApi(server.app, email);
  await api(agent, "post", "/api/logout", {}).expect(200);
}

/** Fill and submit the login form; resolves once the redirect to the dashboard has landed. */
export async function logInThroughForm(page: Page, server: BrowserTestServer, email: string, options: { remember?: boolean; password?: string } = {}): Promise<void> {
  await page.goto(`${server.httpsOrigin}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(options.password ?? GOOD_PASSWORD);
  if (options.remember) await page.getByLabel("Remember me on this device").check();
  await Promise.all([page.waitForURL(/\/dashboard$/), page.getByRole("button", { name: "Log in" }).click()]);
}
