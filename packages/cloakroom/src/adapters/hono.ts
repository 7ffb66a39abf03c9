/**
 * `cloakroom/hono` — session middleware for Hono 4: `app.use(session({ secret }))`, the session at
 * `c.get("session")` / `c.var.session` (property access, @fastify/session's API, callbacks or Promises), the
 * Set-Cookie line through Hono's context. Tested on @hono/node-server; all session logic lives in core/.
 */
import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { CookieOptions } from "../core/cookie.js";
import { SessionStoreUnavailableError } from "../core/errors.js";
import type { ClientFacts } from "../core/manager-helpers.js";
import type { RequestContext, SessionManager } from "../core/manager.js";
import type { SessionData, SessionStore } from "../core/types.js";
import { underPathPrefix } from "./cookie-path.js";
import { createManager, forwardedHttps, resolveCommonOptions, resolveEngineStore, type AdapterOptions } from "./options.js";
import { PromiseSession } from "./promise-session.js";
import { clientAddress, compileTrust, trustsNobody, trustsPeer, type TrustProxy } from "./trust-proxy.js";

/** Options: cloakroom/express's (the engine's, `secret`, `store`, `name`, `cookie`, `genid`), plus `proxy` and `trustProxy`. */
export interface HonoSessionOptions extends AdapterOptions<Context> {
  /**
   * Trust X-Forwarded-Proto always (true), never (false: only the connection's own TLS counts), or when the socket's
   * peer is a trusted proxy by `trustProxy` (undefined), as express-session's `proxy` follows Express's "trust proxy".
   * @default undefined
   */
  proxy?: boolean;
  /**
   * The proxies in front (Express's "trust proxy", Fastify's `trustProxy`): `true`, a number of hops, addresses or
   * subnets (`"loopback"`, `"10.0.0.0/8"`, a list), or `(address, hop) => boolean`. It decides the client address a
   * new session records (`details.ip`, device lists, events), read from X-Forwarded-For through the trusted hops, and,
   * with `proxy` unset, whether X-Forwarded-Proto counts. @default false (the socket's peer is the client)
   */
  trustProxy?: TrustProxy;
}

/** `c.var.session`: the same session class as cloakroom/fastify's. */
export type HonoSession = PromiseSession & Partial<SessionData>;

/**
 * The Hono environment of a middleware whose cookie path is `/` (the default): every request is under it, so
 * `c.var.session` is always set. `new Hono<SessionEnv>()` types it.
 */
export interface SessionEnv {
  Variables: { session: HonoSession };
}

/**
 * The Hono environment of a middleware with another `cookie.path` (or one not known to be `/` when the types are
 * checked): `c.var.session` is unset outside the path (as `req.session` under Express), so it is
 * `HonoSession | undefined` and a route must check it. `new Hono<ScopedSessionEnv>()` types it.
 */
export interface ScopedSessionEnv {
  Variables: { session: HonoSession | undefined };
}

/** The middleware, with the engine attached for device lists and revocation. */
export type SessionMiddleware<E extends SessionEnv | ScopedSessionEnv = SessionEnv> = MiddlewareHandler<E> & { manager: SessionManager };

/** Cookie attributes whose `path` is `/`, given or by default: the session covers every request. */
export type RootCookieOptions = Omit<CookieOptions, "path"> & { path?: "/" };

/** The options with a cookie at the root path, given as attributes or as a function of the context. */
export type RootSessionOptions = Omit<HonoSessionOptions, "cookie"> & { cookie?: RootCookieOptions | ((c: Context) => RootCookieOptions) };

/** The Node.js request under @hono/node-server (its `c.env.incoming`), whose headers cost nothing to read. */
function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * Create the session middleware. Its type follows `cookie.path`: without one, or with `"/"`, `c.var.session` is
 * always set ({@link SessionEnv}); with another path, or one the compiler only knows as a string, it may be
 * `undefined` ({@link ScopedSessionEnv}).
 * @throws {TypeError} naming the option, for bad configuration
 * @example
 * import { Hono } from "hono";
 * import { session, type SessionEnv } from "cloakroom/hono";
 * const app = new Hono<SessionEnv>();
 * app.use(session({ secret: process.env.SESSION_SECRET! }));
 * app.post("/login", (c) => { c.var.session.userId = user.id; return c.text("Logged in"); }); // ticket rotated
 * @example
 * const admin = new Hono<ScopedSessionEnv>().use(session({ secret, cookie: { path: "/admin" } }));
 * admin.get("/admin", (c) => c.text(c.var.session?.userId ? "in" : "out")); // undefined outside /admin
 */
export function session(options: RootSessionOptions): SessionMiddleware;
export function session(options: HonoSessionOptions): SessionMiddleware<ScopedSessionEnv>;
export function session(options: HonoSessionOptions): SessionMiddleware | SessionMiddleware<ScopedSessionEnv> {
  const common = resolveCommonOptions(options, ["proxy", "trustProxy"]);
  if (options.proxy !== undefined && typeof options.proxy !== "boolean") throw new TypeError("proxy option must be a boolean");
  const trust = compileTrust(options.trustProxy);
  /** The client's address for a new record's meta, where the runtime tells it (@hono/node-server's socket). */
  const clientOf = (request: unknown): ClientFacts => {
    const incoming = incomingOf(request as Context);
    return { ip: clientAddress(incoming?.socket?.remoteAddress, incoming?.headers["x-forwarded-for"], trust) };
  };
  const { store, hashKeys } = resolveEngineStore(options.store, common.engine, common.cookie);
  const manager = createManager(common, { secret: options.secret, store, hashKeys, client: clientOf });
  // Whether X-Forwarded-Proto counts: always, never, or when the socket's peer is a trusted proxy.
  const proxy: boolean | null = options.proxy ?? (trustsNobody(trust) ? false : null);
  const { cookieOf, cookie: staticCookie } = common;

  /** After the route: decide, commit when the plan writes, and add the Set-Cookie line. */
  const finish = (c: Context<ScopedSessionEnv>, session: HonoSession): Promise<void> | undefined => {
    const plan = manager.decide(session);
    // Nothing to write (the common read-only request): no promise.
    if (plan.call.op === "none") return setCookie(c, plan.setCookie);
    return manager.commit(session, plan).then(
      (line) => setCookie(c, line),
      (error: unknown) => {
        // Fail closed, without the route's headers or cookies: the client must not believe the session was written.
        // The answer is made here (Hono's onError would merge the route's headers back in); c.error tells outer middleware.
        c.res = undefined;
        c.res = new Response("Service Unavailable", { status: 503, headers: { "content-type": "text/plain; charset=UTF-8", "cache-control": "no-store" } });
        c.error = unavailable(error);
      },
    );
  };
  const serve = (c: Context<ScopedSessionEnv>, next: () => Promise<void>, session: HonoSession): Promise<void> => {
    c.set("session", session);
    return next().then(() => finish(c, session));
  };

  // Not an async function: a session at hand (no cookie, or a store that answered from memory) goes on to the route
  // without an await of its own, and the read-only answer without a promise of its own (issue 12's steady state).
  const middleware = function cloakroomSession(c: Context<ScopedSessionEnv>, next: () => Promise<void>): Promise<void> {
    let loaded: PromiseSession | Promise<PromiseSession>;
    try {
      const incoming = incomingOf(c);
      const cookie = cookieOf === undefined ? undefined : cookieOf(c);
      // Outside cookie.path, express-session's answer: no session (c.var.session unset), no store lookup, no Set-Cookie.
      if (!underPathPrefix(incoming?.url ?? c.req.url, (cookie ?? staticCookie).path ?? "/")) return next();
      const headers = incoming?.headers;
      const socket = incoming?.socket;
      const context: RequestContext = {
        cookieHeader: headers ? headers.cookie : c.req.header("cookie"),
        // On Node, the socket says whether the connection is TLS; the URL's scheme can come from the client.
        secure: ((proxy ?? trustsPeer(socket?.remoteAddress, trust)) && forwardedHttps(headers ? headers["x-forwarded-proto"] : c.req.header("x-forwarded-proto"))) ||
          (incoming ? (socket as { encrypted?: boolean } | undefined)?.encrypted === true : c.req.url.startsWith("https:")),
        userAgent: headers ? headers["user-agent"] : c.req.header("user-agent"),
        request: c,
        cookie,
        // The connection (on Node): a keep-alive client's repeated Cookie header is verified once (the engine's memo).
        connection: socket,
      };
      loaded = manager.loadNow(context, PromiseSession.create);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!(loaded instanceof Promise)) return serve(c, next, loaded);
    return loaded.then(
      (session) => serve(c, next, session),
      (error: unknown) => Promise.reject(unavailable(error)),
    );
  } as SessionMiddleware<ScopedSessionEnv>;
  middleware.manager = manager;
  return middleware;
}

/** Add the session's Set-Cookie line, if any, beside the route's (and keep shared caches from storing the response). */
function setCookie(c: Context, line: string | null): undefined {
  if (line === null) return undefined;
  c.header("set-cookie", line, { append: true });
  // A response that sets a session cookie must never be stored by a shared cache (ASVS 5.0 V14.3.2).
  c.header("cache-control", "no-store");
  return undefined;
}

/** A store failure as Hono's HTTPException (503, the cause kept), for the app's `onError`; anything else as it is. */
function unavailable(error: unknown): Error {
  if (error instanceof SessionStoreUnavailableError) return new HTTPException(503, { message: "Service Unavailable", cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

export default session;
export { PromiseSession as Session };
export type { CookieOptions, SessionStore, SessionManager };
