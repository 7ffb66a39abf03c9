/* eslint-disable @typescript-eslint/no-explicit-any -- scenarios read and write arbitrary session data, as app code does */
/**
 * The differential harness of the express-session fidelity suite: every scenario runs twice, once against
 * express-session 1.19 and once against cloakroom/express, both given express-session's defaults explicitly, and what
 * a user can observe (statuses, bodies, Set-Cookie names and attributes, what the store holds, which store callbacks
 * ran) is compared. Where the two differ on purpose, the scenario asserts the documented divergence and names the row
 * of the README's "Migrating from express-session" table it is listed under.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import type express from "express";
import { afterAll, expect, it } from "vitest";
import * as cloakroom from "cloakroom/express";

const require = createRequire(import.meta.url);

/** The surface both libraries share: the factory with its attached classes. */
export interface Lib {
  name: "express-session" | "cloakroom";
  session: ((options: object) => express.RequestHandler) & {
    Store: new () => LegacyStoreLike;
    MemoryStore: new () => LegacyStoreLike;
    Cookie: new (options?: unknown) => CookieLike;
    Session: new (req: object, data?: object) => Record<string, unknown>;
  };
}

type Callback = (error?: unknown, value?: unknown) => void;

export interface LegacyStoreLike {
  get(sid: string, callback: Callback): void;
  set(sid: string, session: object, callback?: Callback): void;
  destroy(sid: string, callback?: Callback): void;
  touch?(sid: string, session: object, callback?: Callback): void;
  all?(callback: Callback): void;
  length?(callback: Callback): void;
  clear?(callback?: Callback): void;
  load?(sid: string, callback: Callback): void;
  regenerate?(req: object, callback: Callback): void;
  createSession?(req: object, session: object): Record<string, unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
}

export interface CookieLike {
  maxAge: number | null | undefined;
  originalMaxAge: number | null | undefined;
  expires: Date | null | undefined | false;
  httpOnly?: boolean;
  path?: string;
  data: Record<string, unknown>;
  serialize(name: string, value: string): string;
  toJSON(): Record<string, unknown>;
}

export const EXPRESS_SESSION: Lib = { name: "express-session", session: require("express-session") as Lib["session"] };
export const CLOAKROOM: Lib = { name: "cloakroom", session: cloakroom.default as unknown as Lib["session"] };
export const LIBS = [EXPRESS_SESSION, CLOAKROOM] as const;

export const SECRET = "fidelity-suite-secret-0123456789abcdef";

/** express-session's defaults, passed explicitly (what a port from express-session does). */
export const ES_DEFAULTS = {
  secret: SECRET,
  name: "connect.sid",
  saveUninitialized: true,
  resave: true,
  cookie: { secure: false, sameSite: false as const },
};

/** Options for a scenario: express-session's defaults, then the scenario's own. */
export function options(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cookie = typeof extra.cookie === "function" ? extra.cookie : { ...ES_DEFAULTS.cookie, ...(extra.cookie as object | undefined) };
  return { ...ES_DEFAULTS, ...extra, cookie };
}

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** One parsed Set-Cookie line, with the session id replaced by a placeholder and Expires made relative. */
export interface SeenCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** What a client sees of one response. */
export interface Seen {
  status: number;
  body: string;
  cookies: SeenCookie[];
}

/**
 * A browser-like client: keeps the cookies it is given and sends them back, and reports responses with the session
 * ids replaced by placeholders (`id1`, `id2`, … in order of appearance), so two libraries' answers compare equal.
 */
export class Client {
  readonly jar = new Map<string, string>();
  private readonly ids = new Map<string, string>();
  /** The raw session ids in order of appearance (for store calls keyed by id). */
  readonly rawIds: string[] = [];

  constructor(private readonly base: string) {}

  /** Placeholder for a raw id. */
  idOf(raw: string): string {
    let id = this.ids.get(raw);
    if (!id) {
      id = `id${this.ids.size + 1}`;
      this.ids.set(raw, id);
      this.rawIds.push(raw);
    }
    return id;
  }

  async request(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Seen> {
    const cookie = [...this.jar].map(([n, v]) => `${n}=${v}`).join("; ");
    const headers: Record<string, string> = { ...(cookie ? { cookie } : {}), ...init.headers };
    const response = await fetch(this.base + path, { method, headers, body: init.body, redirect: "manual" });
    const body = method === "HEAD" ? "" : await response.text();
    const cookies = response.headers.getSetCookie().map((line) => this.parse(line));
    for (const c of cookies) {
      if (c.attributes.Expires !== undefined && Number(c.attributes.Expires) <= 0) this.jar.delete(c.name);
      else if (c.attributes["Max-Age"] === "0") this.jar.delete(c.name);
      else this.jar.set(c.name, this.rawValue(c));
    }
    return { status: response.status, body: this.normalizeBody(body), cookies };
  }

  get(path: string, headers?: Record<string, string>): Promise<Seen> {
    return this.request("GET", path, { headers });
  }

  post(path: string, body?: unknown): Promise<Seen> {
    return this.request("POST", path, body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  }

  private readonly rawValues = new Map<SeenCookie, string>();

  private rawValue(c: SeenCookie): string {
    return this.rawValues.get(c) ?? c.value;
  }

  private parse(line: string): SeenCookie {
    const [pair, ...attrs] = line.split(";").map((s) => s.trim());
    const eq = pair!.indexOf("=");
    const name = pair!.slice(0, eq);
    const raw = pair!.slice(eq + 1);
    const attributes: Record<string, string | true> = {};
    for (const attr of attrs) {
      const i = attr.indexOf("=");
      const key = i === -1 ? attr : attr.slice(0, i);
      const value = i === -1 ? true : attr.slice(i + 1);
      attributes[key] = key === "Expires" && typeof value === "string" ? String(roughSeconds(Date.parse(value) - Date.now())) : value;
    }
    const decoded = decodeURIComponent(raw);
    const value = decoded.startsWith("s:") ? `s:${this.idOf(decoded.slice(2, decoded.lastIndexOf(".")))}.sig` : raw;
    const seen = { name, value, attributes };
    this.rawValues.set(seen, raw);
    return seen;
  }

  /** Bodies may print a session id: replace every known raw id with its placeholder. */
  normalizeBody(body: string): string {
    let out = body;
    for (const raw of [...this.ids.keys()].sort((a, b) => b.length - a.length)) out = out.split(raw).join(this.ids.get(raw)!);
    return out;
  }
}

/**
 * A duration in seconds, rounded so that two libraries computing the same expiry a few milliseconds apart (and HTTP
 * dates truncating to the second) compare equal: whole seconds up to a minute, tens of seconds above.
 */
export function roughSeconds(ms: number): number {
  const seconds = ms / 1000;
  return Math.abs(seconds) < 50 ? Math.round(seconds) : Math.round(seconds / 10) * 10;
}

/** Serve an app on an ephemeral port and return a client for it. */
export async function serve(app: http.RequestListener): Promise<Client> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/**
 * Compare what a user sees of `scenario` under both libraries. Cloakroom's `Max-Age` beside `Expires` and its
 * `Cache-Control: no-store` are documented divergences checked once in options.test.ts; here Max-Age is left out.
 */
export function same(title: string, scenario: (lib: Lib) => Promise<unknown>): void {
  it(title, async () => {
    const theirs = await scenario(EXPRESS_SESSION);
    const ours = await scenario(CLOAKROOM);
    expect(stripMaxAge(ours)).toEqual(stripMaxAge(theirs));
  });
}

/**
 * A documented divergence: the scenario's observations differ between the libraries as the README row `row` says.
 * `check` asserts what each one does.
 */
export function diverges(title: string, row: string, scenario: (lib: Lib) => Promise<unknown>, check: (theirs: any, ours: any) => void): void {
  it(`${title} (README divergence: "${row}")`, async () => {
    const theirs = await scenario(EXPRESS_SESSION);
    const ours = await scenario(CLOAKROOM);
    check(stripMaxAge(theirs), stripMaxAge(ours));
  });
}

function stripMaxAge(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMaxAge);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "Max-Age") continue;
      out[k] = stripMaxAge(v);
    }
    return out;
  }
  return value;
}

/** Call a callback-style method and resolve with its result (or the error, as a value: both sides are compared). */
export function call<T = unknown>(fn: (callback: Callback) => void): Promise<{ error?: string; value?: T }> {
  return new Promise((resolve) => {
    fn((error, value) => resolve(error ? { error: String((error as Error).message ?? error) } : { value: value as T }));
  });
}

/** The sessions a store holds, as express-session's `all()` gives them, without their ids (ours are hashed). */
export async function heldSessions(store: LegacyStoreLike): Promise<unknown[]> {
  const { value, error } = await call<Record<string, Record<string, unknown>> | Record<string, unknown>[]>((cb) => store.all!(cb));
  if (error) throw new Error(error);
  const list = Array.isArray(value) ? value : Object.values(value ?? {});
  return list.map((s) => normalizeStored(s));
}

/** A stored session with its cookie's `expires` made relative (seconds from now, rounded). */
export function normalizeStored(session: Record<string, unknown>): Record<string, unknown> {
  const { cookie, ...data } = session as { cookie?: Record<string, unknown> };
  if (!cookie) return data;
  const expires = cookie.expires;
  const relative = expires === null || expires === undefined ? expires : roughSeconds(new Date(expires as string).getTime() - Date.now());
  const original = typeof cookie.originalMaxAge === "number" ? roughSeconds(cookie.originalMaxAge) : cookie.originalMaxAge;
  return { ...data, cookie: { ...cookie, expires: relative, originalMaxAge: original } };
}
