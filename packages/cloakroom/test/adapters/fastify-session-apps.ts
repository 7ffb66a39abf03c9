/**
 * The apps the differential tests against @fastify/session 11 build: the same routes on cloakroom/fastify and on
 * @fastify/session (with @fastify/cookie), a session type both satisfy, an express-session store with a real store's
 * copy semantics, and a one-client cookie jar over `inject`.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { expect } from "vitest";
import cloakroom from "cloakroom/fastify";

export const SECRET = "fastify-session-differential-secret-0123456789";
export type Lib = "cloakroom" | "@fastify/session";
export const LIBS: Lib[] = ["cloakroom", "@fastify/session"];
export const HOUR = 3_600_000;

/** A session as both libraries offer it (their types clash, so the routes see this shape). */
export interface AnySession {
  [key: string]: unknown;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  isModified(): boolean;
  isSaved(): boolean;
  touch(): void;
  save(cb: (error?: Error | null) => void): void;
  reload(cb: (error?: Error | null) => void): void;
  destroy(cb: (error?: Error | null) => void): void;
  regenerate(fields: string[], cb: (error?: Error | null) => void): void;
  regenerate(cb: (error?: Error | null) => void): void;
  readonly sessionId: string | null;
}
export const sessionOf = (request: FastifyRequest): AnySession => (request as unknown as { session: AnySession }).session;
/** A callback's outcome: "ok" for no error (undefined or null), else the message. */
const outcome = (error: Error | null | undefined): string => (error == null ? "ok" : error.message);
/** Node-style call as a Promise of its outcome. */
export const viaCallback = (run: (cb: (error?: Error | null) => void) => void): Promise<string> =>
  new Promise((resolve) => run((error) => resolve(outcome(error))));

/**
 * @fastify/session's store contract with the copy semantics of a real store (its own MemoryStore keeps the Session
 * object itself, so a later request would share nested objects with the stored one).
 */
export class JsonStore {
  readonly sessions = new Map<string, string>();
  set(id: string, session: object, cb: (error?: Error) => void): void {
    this.sessions.set(id, JSON.stringify(session));
    cb();
  }
  get(id: string, cb: (error: Error | null, session?: unknown) => void): void {
    const json = this.sessions.get(id);
    cb(null, json === undefined ? undefined : JSON.parse(json));
  }
  destroy(id: string, cb: (error?: Error) => void): void {
    this.sessions.delete(id);
    cb();
  }
}

export type Route = (session: AnySession, request: FastifyRequest) => Promise<unknown>;
const apps: FastifyInstance[] = [];
/** Close every app built so far (each test file's afterAll). */
export async function closeApps(): Promise<void> {
  await Promise.all(apps.splice(0).map((app) => app.close()));
}

/**
 * @fastify/session's options that the tests align with cloakroom's defaults unless they say otherwise: the cookie
 * name, `saveUninitialized: false`, `rolling: false`, a JSON store, and `cookie.secure: false` (its default `true`
 * sends nothing over the plain HTTP of `inject`).
 */
const ALIGNED = { cookieName: "sid", saveUninitialized: false, rolling: false };

/**
 * A Fastify app with `lib` registered and `routes` as POST routes answering their route's value as JSON.
 * @param options both libraries' options, over the aligned ones
 * @param ownDefaults give @fastify/session its own defaults instead of the aligned ones
 */
export async function appWith(lib: Lib, routes: Record<string, Route>, options: Record<string, unknown> = {}, ownDefaults = false): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  if (lib === "cloakroom") {
    await app.register(cloakroom, { secret: SECRET, ...options });
  } else {
    // Untyped imports: @fastify/session's declarations of request.session clash with cloakroom/fastify's.
    const specifiers = ["@fastify/cookie", "@fastify/session"];
    const [cookie, session] = (await Promise.all(specifiers.map((s) => import(s)))) as { default: never }[];
    await app.register(cookie!.default);
    const cookieOption = options.cookie ?? {};
    const aligned = ownDefaults ? {} : { ...ALIGNED, store: new JsonStore() };
    const cookieAligned = ownDefaults || typeof cookieOption !== "object" ? cookieOption : { secure: false, ...cookieOption };
    await app.register(session!.default, { secret: SECRET, ...aligned, ...options, cookie: cookieAligned } as never);
  }
  for (const [path, route] of Object.entries(routes)) {
    app.post(path, async (request, reply) => reply.type("application/json").send(JSON.stringify(await route(sessionOf(request), request))));
  }
  await app.ready();
  return app;
}

/** One request of a client: the body (or the status), the `sid` pair the client holds after it, every Set-Cookie line. */
export interface Exchange {
  body: unknown;
  cookie: string | undefined;
  lines: string[];
}

/** POST `url` with the client's cookie; the jar keeps the `sid` pair of the last response that set it. */
export async function post(app: FastifyInstance, url: string, cookie?: string): Promise<Exchange> {
  const response = await app.inject({ method: "POST", url, headers: cookie ? { cookie } : {} });
  const lines = ([] as string[]).concat((response.headers["set-cookie"] as string | string[] | undefined) ?? []);
  const line = lines.find((l) => l.startsWith("sid="));
  return { body: response.statusCode === 200 ? JSON.parse(response.body) : `${response.statusCode}`, cookie: line ? line.split(";")[0] : cookie, lines };
}

export const login: Route = async (s) => (s.set("userId", "u1"), "in");

/** The Set-Cookie line of a login on an app of `lib` with these options (the cookie name "sid" on both). */
export async function loginLine(lib: Lib, options: Record<string, unknown>, route: Route = login): Promise<string> {
  const { lines } = await post(await appWith(lib, { "/login": route }, options), "/login");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** The ms from now to a line's Expires attribute, or null when it has none. */
export function expiresIn(line: string): number | null {
  const expires = /; Expires=([^;]+)/i.exec(line)?.[1];
  return expires === undefined ? null : Date.parse(expires) - Date.now();
}
