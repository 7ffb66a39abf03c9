/**
 * One small app, written once as framework-free routes and mounted on Express, Fastify and Hono (on
 * @hono/node-server), each listening on 127.0.0.1: what the shared behaviour suite and the cross-framework test
 * talk to over real HTTP.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import session from "cloakroom/express";
import cloakroom from "cloakroom/fastify";
import { session as honoSession, type SessionEnv } from "cloakroom/hono";
import type { CookieOptions } from "../../src/core/cookie.js";
import type { SessionManager } from "../../src/core/manager.js";
import type { SessionStore } from "../../src/core/types.js";

export type Framework = "express" | "fastify" | "hono";
export const FRAMEWORKS: Framework[] = ["express", "fastify", "hono"];

export const SECRET = "adapter-behaviour-secret-0123456789abcdef";

/**
 * What every framework's session offers the routes; outside cookie.path there is none: `undefined` on Express and
 * Hono, an empty object on Fastify (as @fastify/session), so only /me and /has-session are called there.
 */
type AnySession = Record<string, unknown> & { destroy(): Promise<void> };
type Answer = [status: number, body: string | object];
interface Route {
  method: "GET" | "POST";
  path: string;
  run(session: AnySession, params: Record<string, string>, manager: SessionManager): Promise<Answer>;
}

const ROUTES: Route[] = [
  { method: "POST", path: "/login/:user", run: async (s, p) => ((s.userId = p.user), [200, "Logged in"]) },
  { method: "GET", path: "/dashboard", run: async (s) => (s.userId ? [200, "Protected route"] : [401, "Not authenticated"]) },
  { method: "GET", path: "/me", run: async (s) => [200, { userId: s?.userId ?? null, keys: s ? Object.keys(s).filter((k) => k !== "cookie").sort() : [] }] },
  { method: "GET", path: "/has-session", run: async (s) => [200, typeof s?.destroy === "function" ? "session" : "none"] },
  {
    method: "POST",
    path: "/set/:key",
    // Wait before writing, so that concurrent requests all load the session before any of them commits.
    run: async (s, p) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      s[p.key!] = p.key;
      return [200, "ok"];
    },
  },
  { method: "POST", path: "/logout", run: async (s) => (await s.destroy(), [200, "Logged out"]) },
  { method: "POST", path: "/revoke-all", run: async (s, _p, m) => [200, String(await m.revokeUserSessions(String(s.userId)))] },
  { method: "GET", path: "/public", run: async () => [200, "public"] },
];

export interface RunningApp {
  url: string;
  manager: SessionManager;
  close(): Promise<void>;
}

export interface AppOptions {
  store: SessionStore;
  secret?: string;
  /** The cookie option: attributes, or a function of the framework's request. */
  cookie?: CookieOptions | ((request: unknown) => CookieOptions);
  /** The engine's clock. */
  now?: () => number;
  rolling?: boolean;
  /** Prefixes the routes are served under as well as at the root (`["/app"]`: `/app/me` beside `/me`). */
  mounts?: string[];
}

/** The options every adapter gets, and the paths each route is served at. */
interface Config {
  session: { secret: string; store: SessionStore; cookie?: AppOptions["cookie"]; now?: () => number; rolling?: boolean };
  paths: (route: Route) => string[];
}

/** Start the app on `framework` with a cloakroom session on `store`. */
export function startApp(framework: Framework, options: AppOptions): Promise<RunningApp> {
  const { mounts = [], secret = SECRET, ...rest } = options;
  const config: Config = { session: { secret, ...rest }, paths: (route) => ["", ...mounts].map((mount) => `${mount}${route.path}`) };
  if (framework === "express") return startExpress(config);
  if (framework === "fastify") return startFastify(config);
  return startHono(config);
}

async function startExpress(config: Config): Promise<RunningApp> {
  const app = express();
  const middleware = session(config.session);
  app.use(middleware);
  for (const route of ROUTES) {
    app[route.method === "GET" ? "get" : "post"](config.paths(route), async (req, res) => {
      const [status, body] = await route.run(req.session as unknown as AnySession, req.params as Record<string, string>, middleware.manager);
      res.status(status);
      if (typeof body === "string") res.send(body);
      else res.json(body);
    });
  }
  app.use((error: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.status ?? 500).send(error.status === 503 ? "Service Unavailable" : "error");
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return { url: urlOf(server), manager: middleware.manager, close: () => closeServer(server) };
}

async function startFastify(config: Config): Promise<RunningApp> {
  const app = Fastify();
  await app.register(cloakroom, config.session);
  for (const route of ROUTES) {
    for (const url of config.paths(route)) {
      app.route({
        method: route.method,
        url,
        handler: async (request, reply) => {
          const [status, body] = await route.run(request.session as unknown as AnySession, request.params as Record<string, string>, app.sessionManager);
          reply.code(status);
          return body;
        },
      });
    }
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: urlOf(app.server), manager: app.sessionManager, close: () => app.close() };
}

async function startHono(config: Config): Promise<RunningApp> {
  const app = new Hono<SessionEnv>();
  const middleware = honoSession(config.session);
  app.use(middleware);
  // Hono's default answers, without its console.error of the expected failures.
  app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text("error", 500)));
  for (const route of ROUTES) {
    app.on(route.method, config.paths(route), async (c) => {
      const [status, body] = await route.run(c.var.session as unknown as AnySession, c.req.param() as Record<string, string>, middleware.manager);
      return typeof body === "string" ? c.text(body, status as 200) : c.json(body, status as 200);
    });
  }
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  return { url: urlOf(server), manager: middleware.manager, close: () => closeServer(server) };
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The `sid=…` pair of a response's session cookie, or `null`. */
export function sessionCookieOf(response: Response): string | null {
  const line = response.headers.getSetCookie().find((l) => l.startsWith("sid="));
  return line ? line.split(";")[0]! : null;
}

/** A request to a running app with an optional Cookie header; the body is read. */
export async function call(app: RunningApp, method: "GET" | "POST", path: string, cookie?: string): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${app.url}${path}`, { method, headers: cookie === undefined ? {} : { cookie } });
  return { response, text: await response.text() };
}
