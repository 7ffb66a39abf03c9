/**
 * `cloakroom/express` — a drop-in successor of express-session: same options, same `req.session` API (callbacks and
 * Promises), same Store interface, same `s:<id>.<sig>` cookie. Works on Express 4, Express 5 and a bare
 * `http.createServer` handler. All session logic lives in core/; this file maps requests to the engine.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CookieOptions } from "../core/cookie.js";
import { SessionStoreUnavailableError } from "../core/errors.js";
import { SessionManager, type RequestContext } from "../core/manager.js";
import type { SessionData, SessionStore } from "../core/types.js";
import type { LegacyStore } from "../stores/legacy.js";
import { bindRequest, interceptResponse, shownSession } from "./express-binding.js";
import { Exchange, type ExchangeSettings } from "./express-exchange.js";
import { MemoryStore } from "./express-memory-store.js";
import { resolveSessionOptions, type SessionOptions, type SessionRequest } from "./express-options.js";
import { ExpressSession } from "./express-session.js";
import { isSecure } from "./express-secure.js";
import { underPathPrefix } from "./cookie-path.js";
import { Store } from "./express-store.js";
import { SessionCookie } from "../core/session-cookie.js";

export type { SessionOptions } from "./express-options.js";

/** The middleware, with the engine attached for device lists and revocation. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The engine (for a `secret` given as an option; with cookie-parser's `req.secret` there is one per secret). */
  manager: SessionManager;
  /** The store the engine uses (behind `session.MemoryStore`, its native store). */
  store: SessionStore;
}

/**
 * Create the session middleware.
 * @param options see {@link SessionOptions}; without `secret`, cookie-parser's `req.secret` is used (as in express-session)
 * @throws {TypeError} naming the option, for bad configuration
 * @example
 * import session from "cloakroom/express";
 * app.use(session({ secret: process.env.SESSION_SECRET }));
 * app.post("/login", async (req, res) => { …; req.session.userId = user.id; res.send("Logged in"); }); // ticket rotated
 */
function createSessionMiddleware(options: SessionOptions = {}): SessionMiddleware {
  const resolved = resolveSessionOptions(options);
  const { engines, store, proxy, cookieOption, name, cookiePath } = resolved;
  const settings: ExchangeSettings = { unsetDestroys: options.unset === "destroy" };
  let storeReady = true;
  resolved.events?.on("disconnect", () => {
    storeReady = false;
  });
  resolved.events?.on("connect", () => {
    storeReady = true;
  });

  const middleware = function cloakroomSession(req: SessionRequest, res: ServerResponse, next: (error?: unknown) => void): void {
    // One load of req.socket for the whole middleware: on Express's swapped prototypes each costs an inline-cache miss.
    const socket = req.socket as IncomingMessage["socket"] | undefined;
    if (shownSession(req, socket)) return next();
    const headers = req.headers;
    if (!storeReady) {
      // express-session runs such requests without a session; one that presents a session fails closed instead.
      if (headers.cookie?.includes(`${name ?? "sid"}=`)) return next(new SessionStoreUnavailableError("get", new Error("the store reported 'disconnect'")));
      return next();
    }
    const cookie = cookieOption === undefined ? undefined : cookieOption(req);
    const path = cookie ? (cookie.path ?? "/") : cookiePath;
    // express-session's check: the session applies under cookie.path only ("/", the default, is every path).
    if (path !== "/" && !underPathPrefix(req.originalUrl ?? req.url ?? "/", path)) return next();
    const manager = engines.managerFor(req);
    if (manager === null) return next(new Error("secret option required for sessions"));
    const context: RequestContext = {
      cookieHeader: headers.cookie,
      secure: isSecure(req, socket, proxy),
      // A header read is cheap: the User-Agent is compared with the session's on every load (detection only).
      userAgent: headers["user-agent"],
      request: req,
      cookie,
      connection: socket,
    };
    let loaded: ExpressSession | Promise<ExpressSession>;
    try {
      loaded = manager.loadNow(context, ExpressSession.create);
    } catch (error) {
      return next(error);
    }
    // A session at hand (no cookie, or a store that answered from memory) goes on at once: no promise hop.
    if (!(loaded instanceof Promise)) return start(req, res, next, manager, loaded, socket);
    loaded.then((session) => start(req, res, next, manager, session, socket), next);
  } as SessionMiddleware;

  function start(req: SessionRequest, res: ServerResponse, next: (error?: unknown) => void, manager: SessionManager, session: ExpressSession, socket: unknown): void {
    ExpressSession.attach(session, req);
    const exchange = new Exchange(req, manager, session, session.id, store, settings, next);
    exchange.own = bindRequest(req, exchange, socket);
    interceptResponse(res, exchange, exchange);
    next();
  }

  Object.defineProperty(middleware, "manager", { enumerable: true, get: () => engines.primary() });
  middleware.store = engines.store;
  return middleware;
}

/** The middleware factory, with express-session's attached exports (`session.Store`, `session.MemoryStore`, …). */
const session = Object.assign(createSessionMiddleware, {
  Store,
  MemoryStore,
  Session: ExpressSession,
  Cookie: SessionCookie,
});
export default session;

export { session, Store, MemoryStore, ExpressSession as Session, SessionCookie as Cookie, SessionManager };
export type { CookieOptions, SessionStore, LegacyStore };

// The global Express namespace, as @types/express-session does: express-serve-static-core's Request extends
// Express.Request, and a project without @types/express still compiles against this file.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The session (cloakroom/express). Data keys come from `SessionData` (declaration merging). */
      session: ExpressSession & Partial<SessionData>;
      /** The raw ticket of the stored session, `null` before it is stored. Secret: never log it. */
      sessionID: string | null;
      sessionStore: SessionStore | LegacyStore | MemoryStore;
    }
  }
}
