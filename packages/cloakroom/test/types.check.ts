/**
 * Type tests, checked by `npm run typecheck` (tsc): the public types users write against.
 * Every `@ts-expect-error` fails the type check if the error it expects goes away.
 */
import express from "express";
import session, { type SessionOptions } from "cloakroom/express";
import { MemoryStore, SessionManager, type SessionRecord, type SessionStore } from "cloakroom";
import Fastify from "fastify";
import cloakroom from "cloakroom/fastify";
import { Hono } from "hono";
import { session as honoSession, type ScopedSessionEnv, type SessionEnv, type SessionMiddleware } from "cloakroom/hono";

declare module "cloakroom" {
  interface SessionData {
    typeTestCart: string[];
  }
}
// Code written for @fastify/session types its data through fastify's Session interface.
declare module "fastify" {
  interface Session {
    typeTestTheme: "dark" | "light";
  }
}

const app = express();
app.use(session({ secret: "x".repeat(32), store: new MemoryStore(), cookie: { sameSite: "auto", secure: "auto", maxAge: 1000 } }));

app.get("/", (req, res) => {
  // Declaration merging: a declared key is typed.
  const cart: string[] | undefined = req.session.typeTestCart;
  req.session.typeTestCart = ["apple"];
  // @ts-expect-error -- a declared key keeps its type
  req.session.typeTestCart = 42;
  // Methods: callback form (returns the session, as express-session's) and Promise form.
  const chained: typeof req.session = req.session.save((err?: unknown) => void err);
  const pending: Promise<void> = req.session.reload();
  const touched: typeof req.session = req.session.touch();
  const regenerated: Promise<unknown> = req.session.regenerate();
  const id: string | null = req.sessionID;
  const maxAge: number | null = req.session.cookie.maxAge;
  res.send(String(cart?.length ?? 0) + String(id) + String(maxAge) + String(pending !== undefined) + String(chained === touched) + String(regenerated));
});

// As in express-session, secret may be left out (cookie-parser's req.secret is used then).
const noSecret: SessionOptions = {};
// express-session's classes hang off the factory.
const faceStore = new session.MemoryStore();
faceStore.get("sid", (error?: unknown, stored?: unknown) => void [error, stored]);
const standaloneCookie: string = new session.Cookie({ maxAge: 1000 }).serialize("name", "value");
void [faceStore, standaloneCookie];
// @ts-expect-error -- sameSite takes express-session's values only
session({ secret: "s", cookie: { sameSite: "sideways" } });

const store: SessionStore = new MemoryStore();
const manager = new SessionManager({ store, secret: "s".repeat(32) });
const record: Promise<SessionRecord | null> = store.get("key");
void [noSecret, manager, record];

// cloakroom/fastify: request.session and fastify.sessionManager are typed by registering the plugin's module.
const fastify = Fastify();
void fastify.register(cloakroom, { secret: "x".repeat(32), store: new MemoryStore() });
fastify.get("/", async (request) => {
  const cart: string[] | undefined = request.session.get("typeTestCart");
  request.session.set("typeTestCart", ["pear"]);
  // @ts-expect-error -- set() keeps a declared key's type
  request.session.set("typeTestCart", 42);
  request.session.typeTestCart = ["plum"];
  delete request.session.typeTestCart;
  const done: Promise<void> = request.session.regenerate(["typeTestCart"]);
  const id: string | null = request.session.sessionId;
  const devices: Promise<unknown[]> = fastify.sessionManager.listUserSessions("u");
  // @fastify/session's callback forms return nothing; isModified/isSaved are booleans.
  const viaCallback: void = request.session.regenerate(["typeTestCart"], (error?: Error) => void error);
  request.session.regenerate(() => undefined);
  request.session.save((error) => void error);
  request.session.reload(() => undefined);
  request.session.destroy(() => undefined);
  const flags: [boolean, boolean] = [request.session.isModified(), request.session.isSaved()];
  // @ts-expect-error -- the callback form is not a Promise
  const notPromise: Promise<void> = request.session.save(() => undefined);
  return [cart, done, id, devices, viaCallback, flags, notPromise, await request.session.save()];
});
fastify.get("/theme", async (request) => {
  request.session.typeTestTheme = "dark";
  // @ts-expect-error -- a key declared on fastify's Session keeps its type
  request.session.typeTestTheme = 42;
  request.session.options({ maxAge: 86_400_000 });
  const store: SessionStore | object = request.sessionStore;
  return [request.session.typeTestTheme, store];
});
// @fastify/session's option names
void fastify.register(cloakroom, { secret: "x".repeat(32), cookieName: "sessionId", idGenerator: (request) => `${request.id}-${"x".repeat(16)}` });
// @ts-expect-error -- secret is required
void fastify.register(cloakroom, {});
// cookie may be a function of the request
void fastify.register(cloakroom, { secret: "x".repeat(32), cookie: (request) => ({ secure: request.protocol === "https" }) });

// cloakroom/hono: c.var.session is typed through the SessionEnv Variables.
const hono = new Hono<SessionEnv>();
hono.use(honoSession({ secret: "x".repeat(32) }));
hono.use(honoSession({ secret: "x".repeat(32), trustProxy: ["loopback", "10.0.0.0/8"], cookie: (c) => ({ maxAge: c.req.header("x-remember") ? 1000 : null }) }));
// @ts-expect-error -- trustProxy takes Express's values, not an object
hono.use(honoSession({ secret: "x".repeat(32), trustProxy: {} }));
hono.get("/", async (c) => {
  const cart: string[] | undefined = c.var.session.typeTestCart;
  // @ts-expect-error -- a declared key keeps its type
  c.get("session").typeTestCart = 42;
  await c.var.session.destroy();
  return c.text(String(cart?.length));
});

// cloakroom/hono's type follows cookie.path. At "/" (given or by default) every request has a session: SessionEnv.
const rootedApp = new Hono().use(honoSession({ secret: "x".repeat(32), cookie: { path: "/", maxAge: 1000 } }));
rootedApp.get("/", (c) => c.text(String(c.var.session.userId)));
const rooted: SessionMiddleware = honoSession({ secret: "x".repeat(32), cookie: () => ({ path: "/" }) });
// Under another path the session is unset outside it: ScopedSessionEnv, where it may be undefined.
const scopedApp = new Hono().use(honoSession({ secret: "x".repeat(32), cookie: { path: "/app" } }));
scopedApp.get("/app", (c) => {
  // @ts-expect-error -- c.var.session may be undefined: check it first
  c.var.session.userId = "u1";
  const scopedSession = c.get("session");
  if (scopedSession) scopedSession.userId = "u1";
  return c.text("ok");
});
// @ts-expect-error -- a scoped middleware does not promise a session on every request
const notRooted: SessionMiddleware = honoSession({ secret: "x".repeat(32), cookie: { path: "/app" } });
declare const somePath: string;
// A path the compiler knows only as a string is scoped too.
const dynamic: SessionMiddleware<ScopedSessionEnv> = honoSession({ secret: "x".repeat(32), cookie: (c) => ({ path: somePath, secure: c.req.url.startsWith("https:") }) });
// @ts-expect-error -- … and so not a SessionMiddleware
const dynamicRooted: SessionMiddleware = honoSession({ secret: "x".repeat(32), cookie: { path: somePath } });
const scopedEnvApp = new Hono<ScopedSessionEnv>();
scopedEnvApp.use(honoSession({ secret: "x".repeat(32), cookie: { path: "/app" } }));
scopedEnvApp.post("/app/logout", async (c) => {
  // @ts-expect-error -- new Hono<ScopedSessionEnv>() types c.var.session as possibly undefined as well
  await c.var.session.destroy();
  await c.var.session?.destroy();
  return c.text("out");
});
void [rooted, notRooted, dynamic, dynamicRooted];
