/** Test harness: an app on a throw-away data folder, a log sink to search, and browser-like request helpers. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Express } from "express";
import request from "supertest";
import { createApp, type ServerApp } from "../src/app.js";
import { openBackends, type BackendOverrides, type Backends } from "../src/backends.js";
import { loadConfig, type ServerConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";

export const TEST_SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
/** Passes the policy: 15+ code points, not on the blocklist. */
export const GOOD_PASSWORD = "plum orchard lantern mosaic";
export const OTHER_PASSWORD = "violet tractor under moonlight";

export interface TestServer extends ServerApp {
  config: ServerConfig;
  backends: Backends;
  /** Everything logged so far, one JSON line each. */
  logs: string[];
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Start an app (no listening). Env defaults: SQLite users and sessions in a temp folder, a fixed secret.
 */
export async function startTestServer(options: { env?: Record<string, string>; now?: () => number; overrides?: BackendOverrides } = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-server-"));
  const loaded = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, SESSION_SECRETS: TEST_SECRET, SESSION_STORE: process.env.TEST_SESSION_STORE ?? "sqlite", ...options.env });
  if (!loaded.ok) throw new Error(loaded.message);
  const config = loaded.config;
  const backends = await openBackends(config, options.overrides);
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logs.push(line) } });
  const server = createApp({
    ...backends,
    config,
    secrets: [TEST_SECRET],
    logger,
    processMetrics: false,
    ...(options.now ? { now: options.now } : {}),
  });

  return {
    ...server,
    config,
    backends,
    logs,
    dataDir,
    async close() {
      await server.background.drain();
      server.mailer.close();
      await backends.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON API call helper with the headers a non-browser client sends. */
export function api(agent: request.Agent | ReturnType<typeof request>, method: "post" | "get" | "delete", url: string, body?: unknown): request.Test {
  const target = agent as request.Agent;
  const req = target[method](url).set("Accept", "application/json");
  return body === undefined ? req : req.set("Content-Type", "application/json").send(JSON.stringify(body));
}

/** Register through the API on a fresh agent; resolves the logged-in agent. */
export async function registerViaApi(app: Express, email: string, password = GOOD_PASSWORD): Promise<request.Agent> {
  const agent = request.agent(app);
  const res = await api(agent, "post", "/api/register", { email, password });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return agent;
}

/** Log in through the API on a fresh agent (or the given one). */
export async function loginViaApi(app: Express, email: string, password = GOOD_PASSWORD, agent = request.agent(app)): Promise<request.Agent> {
  const res = await api(agent, "post", "/api/login", { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return agent;
}

/** A browser GET: Accept text/html, same-origin fetch metadata. */
export function browserGet(agent: request.Agent, url: string): request.Test {
  return agent.get(url).set("Accept", "text/html").set("Sec-Fetch-Site", "same-origin");
}

/** A browser form post (urlencoded) with same-origin fetch metadata. */
export function browserPost(agent: request.Agent, url: string, form: Record<string, string>): request.Test {
  return agent
    .post(url)
    .set("Accept", "text/html")
    .set("Sec-Fetch-Site", "same-origin")
    .type("form")
    .send(new URLSearchParams(form).toString());
}

/** The CSRF token of the first form in a page. */
export function csrfTokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no CSRF token in page");
  return match[1];
}

/** Name=value of the session cookie in a response, or null. */
export function sessionCookieOf(res: request.Response): string | null {
  const lines = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
  const line = lines.find((l) => /^(__Host-)?sid=/.test(l));
  return line ? (line.split(";")[0] as string) : null;
}

/** Every Set-Cookie line of a response. */
export function setCookies(res: request.Response): string[] {
  return ([] as string[]).concat(res.headers["set-cookie"] ?? []);
}
