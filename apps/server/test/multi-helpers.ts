/**
 * Helpers for tests that drive real server processes over HTTP (multi-instance and outage tests): a small JSON client
 * that carries one session cookie, account set-up, and latency statistics.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GOOD_PASSWORD, TEST_SECRET } from "./helpers.js";

/** One answer, read completely. */
export interface Answer {
  status: number;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  /** `sid=…` when the answer set a session cookie (empty value = cleared), else null. */
  cookie: string | null;
  headers: Headers;
}

/** Options of {@link call}. */
export interface CallOptions {
  /** `sid=…` to send. */
  cookie?: string | null;
  /** A JSON body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Abort after this long (the request counts as failed with status 0). @default 10_000 */
  timeoutMs?: number;
}

/**
 * A JSON API request as a non-browser client sends it (JSON body, no Origin: accepted by the CSRF check).
 * A network failure resolves as status 0, so load loops can count it instead of throwing.
 */
export async function call(base: string, method: string, pathname: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.cookie) headers.Cookie = options.cookie;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const res = await fetch(`${base}${pathname}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const line = res.headers.getSetCookie().find((l) => /^(__Host-)?sid=/.test(l));
    return { status: res.status, text, json, cookie: line ? (line.split(";")[0] as string) : null, headers: res.headers };
  } catch (error) {
    return { status: 0, text: String(error), json: undefined, cookie: null, headers: new Headers() };
  }
}

/** Register an account through `base`; resolves the session cookie registration opened. */
export async function register(base: string, email: string, password = GOOD_PASSWORD): Promise<string> {
  const res = await call(base, "POST", "/api/register", { body: { email, password } });
  if (res.status !== 201 || !res.cookie) throw new Error(`register on ${base} failed: ${res.status} ${res.text}`);
  return res.cookie;
}

/** Log in through `base`; resolves the new session cookie. */
export async function login(base: string, email: string, password = GOOD_PASSWORD): Promise<string> {
  const res = await call(base, "POST", "/api/login", { body: { email, password } });
  if (res.status !== 200 || !res.cookie) throw new Error(`login on ${base} failed: ${res.status} ${res.text}`);
  return res.cookie;
}

/** GET /api/me with a cookie: the status (200 signed in, 401 not, 503 store down, 0 no answer). */
export async function meStatus(base: string, cookie: string): Promise<number> {
  return (await call(base, "GET", "/api/me", { cookie })).status;
}

/**
 * Poll GET /api/me on `base` until it answers `status`. Resolves the ms from `since` (performance.now()) to that
 * answer, and how many requests it took (1 = the very first one).
 * @throws when it has not happened within `limitMs`
 */
export async function waitForStatus(base: string, cookie: string, status: number, options: { since?: number; limitMs?: number } = {}): Promise<{ ms: number; polls: number }> {
  const since = options.since ?? performance.now();
  const limit = options.limitMs ?? 10_000;
  for (let polls = 1; ; polls++) {
    const got = await meStatus(base, cookie);
    const ms = performance.now() - since;
    if (got === status) return { ms, polls };
    if (ms > limit) throw new Error(`${base}/api/me still answers ${got} (not ${status}) after ${Math.round(ms)} ms and ${polls} requests`);
  }
}

/** The environment of a test instance: nothing inherited but PATH; any free port; quiet logs; a fixed secret; generous IP limits. */
export function instanceEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "test",
    PORT: "0",
    LOG_LEVEL: "warn",
    SESSION_SECRETS: TEST_SECRET,
    // Every test client is 127.0.0.1: the per-IP limit must not be what a test measures.
    LOGIN_MAX_FAILURES_PER_IP: "100000",
    ...extra,
  };
}

/**
 * A temp folder, created on first use of `dir` (so a suite that is skipped, whose hooks never run, leaves nothing
 * behind) and removed by `remove()`.
 */
export function tempDir(prefix: string): { readonly dir: string; remove(): void } {
  let dir: string | undefined;
  return {
    get dir(): string {
      dir ??= fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      return dir;
    },
    remove(): void {
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `p`-th percentile (0–100) of `values`, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** "median 1.2 ms, p99 3.4 ms, max 5.6 ms (n=40)". */
export function describeLatencies(values: number[]): string {
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  return `median ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}, max ${ms(Math.max(...values))} (n=${values.length})`;
}

/** A unique e-mail address per test run. */
export function uniqueEmail(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.com`;
}
