/**
 * The seed's app on Fastify and on Hono (@hono/node-server), for the setups whose framework is not Express: the
 * same routes as server.ts (POST /login sets `session.userId`, GET /dashboard → requireAuth → "Protected route",
 * POST /cart changes the session) and the same /__bench/stats. The session layers come from the built packages.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { KEEP_ALIVE_MS, SECRET, touchAfterOverride } from "./scenarios.js";

/** The setups served here, by framework. */
export const FASTIFY_SETUPS = ["fastify", "fastify-floor", "fastify-session", "cr-fastify"];
export const HONO_SETUPS = ["hono", "hono-floor", "cr-hono"];
/** What the floors put at the session's place: a logged-in session that costs nothing. */
const FLOOR_SESSION = { userId: "floor" };

type Sess = Record<string, unknown> | undefined;
/** A module the bench imports without its types (@fastify/session's would clash with cloakroom/fastify's). */
type Loose = { default: (...args: never[]) => unknown } & Record<string, unknown>;
const load = (specifier: string): Promise<Loose> => import(specifier) as Promise<Loose>;

function stats(): { counts: null; loop: null; rss: number; cpuMicros: number } {
  const { user, system } = process.cpuUsage();
  return { counts: null, loop: null, rss: process.memoryUsage().rss, cpuMicros: user + system };
}

/** Start the setup's server on 127.0.0.1; resolves with the server once it listens. */
export async function serveFramework(id: string): Promise<{ server: Server; close(): Promise<void> }> {
  return FASTIFY_SETUPS.includes(id) ? serveFastify(id) : serveHono(id);
}

async function serveFastify(id: string): Promise<{ server: Server; close(): Promise<void> }> {
  const { default: Fastify } = await import("fastify");
  const app = Fastify();
  app.get("/__bench/stats", async () => stats());
  app.post("/__bench/reset", async () => "ok");
  if (id === "fastify-session") {
    // @fastify/session with the options every express-session setup gets (no save of empty sessions, no rolling
    // cookie), over HTTP (its cookie is Secure by default), its own MemoryStore.
    await app.register((await load("@fastify/cookie")).default as never);
    await app.register((await load("@fastify/session")).default as never, { secret: SECRET, saveUninitialized: false, rolling: false, cookie: { secure: false } });
  } else if (id === "fastify-floor") {
    // The binding a session plugin cannot avoid on Fastify, and nothing else: a decorated request property set in
    // an onRequest hook, and an onSend hook (where a commit goes) that passes the payload on.
    app.decorateRequest("session", null as never);
    app.addHook("onRequest", (request, _reply, done) => {
      (request as unknown as { session: Sess }).session = FLOOR_SESSION;
      done();
    });
    app.addHook("onSend", (_request, _reply, payload, done) => done(null, payload));
  } else if (id === "cr-fastify") {
    const { MemoryStore } = await import("cloakroom");
    await app.register((await load("cloakroom/fastify")).default as never, { secret: SECRET, store: new MemoryStore(), ...touchAfterOverride() });
  }
  const authless = id === "fastify" || id === "fastify-floor";
  const sessionOf = (request: object): Sess => (request as { session?: Sess }).session;
  const requireAuth = (request: object, reply: { code(n: number): { send(b: string): void } }, done: () => void): void => {
    if (!authless && !sessionOf(request)?.userId) return reply.code(401).send("Not authenticated");
    done();
  };
  app.post("/login", (request, reply) => {
    const session = sessionOf(request);
    if (session) session.userId = String((request.body as { userId?: string } | undefined)?.userId ?? "u1");
    reply.send("Logged in");
  });
  app.get("/dashboard", { preHandler: requireAuth }, (_request, reply) => {
    reply.send("Protected route");
  });
  app.post("/cart", { preHandler: requireAuth }, (request, reply) => {
    const session = sessionOf(request);
    if (session) session.cart = ((session.cart as number | undefined) ?? 0) + 1;
    reply.send("ok");
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  app.server.keepAliveTimeout = KEEP_ALIVE_MS;
  return { server: app.server, close: () => app.close() };
}

async function serveHono(id: string): Promise<{ server: Server; close(): Promise<void> }> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono<{ Variables: { session: Sess } }>();
  app.get("/__bench/stats", (c) => c.json(stats()));
  app.post("/__bench/reset", (c) => c.text("ok"));
  if (id === "hono-floor") {
    // The binding a session middleware cannot avoid on Hono: a context variable set before next().
    app.use(async (c, next) => {
      c.set("session", FLOOR_SESSION);
      await next();
    });
  } else if (id === "cr-hono") {
    const { MemoryStore } = await import("cloakroom");
    const { session } = (await load("cloakroom/hono")) as unknown as { session: (o: object) => Parameters<typeof app.use>[0] };
    app.use(session({ secret: SECRET, store: new MemoryStore(), ...touchAfterOverride() }));
  }
  const authless = id === "hono" || id === "hono-floor";
  app.post("/login", async (c) => {
    const body = (await c.req.json()) as { userId?: string };
    const session = c.get("session");
    if (session) session.userId = String(body.userId ?? "u1");
    return c.text("Logged in");
  });
  const requireAuth = async (c: { get(k: "session"): Sess; text(b: string, s: 401): Response }, next: () => Promise<void>): Promise<Response | void> => {
    if (!authless && !c.get("session")?.userId) return c.text("Not authenticated", 401);
    await next();
  };
  app.get("/dashboard", requireAuth, (c) => c.text("Protected route"));
  app.post("/cart", requireAuth, (c) => {
    // Bare Hono has no session: it answers "ok" as bare Express and bare Fastify do (it answered 500 before).
    const session = c.get("session");
    if (session) session.cart = ((session.cart as number | undefined) ?? 0) + 1;
    return c.text("ok");
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  return {
    server,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
