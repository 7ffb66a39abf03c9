/**
 * `cloakroom/express` — a drop-in successor of express-session: same options, same `req.session` API (callbacks and
 * Promises), same Store interface, same `s:<id>.<sig>` cookie. Works on Express 4, Express 5 and a bare
 * `http.createServer` handler. All session logic lives in core/; this file maps requests and responses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CookieOptions } from "../core/cookie.js";
import { SessionManager, isSessionStore, type RequestContext, type SessionManagerOptions } from "../core/manager.js";
import { resolveTimeoutPolicy } from "../core/timeouts.js";
import { Session, SessionCookie } from "../core/session.js";
import { stateOf } from "../core/state.js";
import type { SessionData, SessionStore } from "../core/types.js";
import { LegacyStoreAdapter, isLegacyStore, type LegacyStore } from "../stores/legacy.js";
import { MemoryStore } from "../stores/memory.js";
import { Store } from "./legacy-store-base.js";

/** Options: express-session 1.19's, plus idleTimeout, absoluteTimeout, touchAfter and identityKey. */
export interface SessionOptions extends Omit<SessionManagerOptions, "store" | "cookie" | "hashKeys" | "randomBytes"> {
  /** A SessionStore, or any express-session store (connect-redis, connect-pg-simple, …). @default new MemoryStore() */
  store?: SessionStore | LegacyStore;
  /** Cookie name. @default "__Host-sid" over HTTPS, "sid" over HTTP (express-session: "connect.sid") */
  name?: string;
  /** express-session's undocumented alias of `name`. */
  key?: string;
  /** Cookie attributes, or a function of the request returning them (express-session 1.19). */
  cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions);
  /** Make the ticket yourself (express-session's genid). Entropy is then your responsibility. */
  genid?: (req: IncomingMessage) => string;
  /** Trust X-Forwarded-Proto (true), never (false), or follow Express's "trust proxy" (undefined). */
  proxy?: boolean;
  /** What happens when `req.session` is deleted or set to null: keep the stored session or destroy it. @default "keep" */
  unset?: "keep" | "destroy";
}

type Callback = (error?: unknown) => void;

/** The middleware, with the engine attached for device lists and revocation. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  manager: SessionManager;
  store: SessionStore;
}

/** Settle a Promise into an optional Node-style callback: `cb` given → call it; otherwise return the Promise. */
function settle(promise: Promise<unknown>, callback: Callback | undefined): Promise<void> | undefined {
  if (typeof callback !== "function") return promise.then(() => undefined);
  promise.then(() => callback(), (error: unknown) => callback(error));
  return undefined;
}

/** `req.session`: the core Session with express-session's callback forms, one shim over the Promise API. */
export class ExpressSession extends Session {
  readonly #req: IncomingMessage & { session?: unknown; sessionID?: string | null };

  constructor(manager: SessionManager, req: IncomingMessage) {
    super(manager);
    this.#req = req;
  }

  /** Settle `promise` for the caller, after bringing `req.sessionID` up to date with this session's ticket. */
  #settle(promise: Promise<unknown>, callback: Callback | undefined): Promise<void> | undefined {
    return settle(
      promise.then(() => {
        if (this.#req.session === this) this.#req.sessionID = this.id;
      }),
      callback,
    );
  }

  // @ts-expect-error -- returns a Promise without a callback, like every method here (express-session: callback only)
  override regenerate(callback?: Callback): Promise<void> | undefined {
    return this.#settle(super.regenerate(), callback);
  }

  // @ts-expect-error -- see regenerate
  override destroy(callback?: Callback): Promise<void> | undefined {
    // express-session deletes req.session once destroyed.
    return settle(super.destroy().then(() => void delete this.#req.session), callback);
  }

  // @ts-expect-error -- see regenerate
  override reload(callback?: Callback): Promise<void> | undefined {
    return this.#settle(super.reload(), callback);
  }

  // @ts-expect-error -- see regenerate
  override save(callback?: Callback): Promise<void> | undefined {
    return this.#settle(super.save(), callback);
  }

  // @ts-expect-error -- express-session's touch() is synchronous; ours also settles a callback or a Promise
  override touch(callback?: Callback): Promise<void> | undefined {
    super.touch();
    return settle(Promise.resolve(), callback);
  }

  // @ts-expect-error -- see touch
  override resetMaxAge(callback?: Callback): Promise<void> | undefined {
    return this.touch(callback);
  }

  // @ts-expect-error -- see regenerate
  override rotate(callback?: Callback): Promise<void> | undefined {
    return this.#settle(super.rotate(), callback);
  }
}

type SessionRequest = IncomingMessage & {
  session?: ExpressSession | null;
  sessionID?: string | null;
  sessionStore?: SessionStore;
  secure?: boolean;
  ip?: string;
  originalUrl?: string;
};

/** express-session's issecure(): TLS socket, or X-Forwarded-Proto when `proxy: true`, or Express's req.secure. */
function isSecure(req: SessionRequest, proxy: boolean | undefined): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (proxy === false) return false;
  if (proxy !== true) return req.secure === true;
  const header = req.headers["x-forwarded-proto"];
  const first = (Array.isArray(header) ? header[0] : header)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}

function setSessionCookie(res: ServerResponse, line: string, replacing: string | null): void {
  const previous = res.getHeader("set-cookie");
  const lines = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)];
  res.setHeader("set-cookie", [...lines.filter((l) => l !== replacing), line]);
  // A response that sets a session cookie must never be stored by a shared cache (ASVS 5.0 V14.3.2).
  res.setHeader("cache-control", "no-store");
}

function resolveStore(options: SessionOptions, cookieMaxAge: unknown): { store: SessionStore; legacy: boolean } {
  const store = options.store ?? new MemoryStore();
  if (isSessionStore(store)) return { store, legacy: false };
  if (isLegacyStore(store)) {
    // The lifetimes the manager will use, so sessions that express-session wrote get them too.
    const policy = resolveTimeoutPolicy(options, typeof cookieMaxAge === "number" ? cookieMaxAge : null);
    return {
      store: new LegacyStoreAdapter(store, {
        idleTimeout: policy.idleTimeout,
        absoluteTimeout: policy.absoluteTimeout,
        ...(options.identityKey ? { identityKey: options.identityKey } : {}),
        ...(options.now ? { now: options.now } : {}),
      }),
      legacy: true,
    };
  }
  throw new TypeError("store option must be a SessionStore or an express-session store (get/set/destroy)");
}

/**
 * Create the session middleware.
 * @param options see {@link SessionOptions}; `secret` is required
 * @throws {TypeError} naming the option, for bad configuration
 * @example
 * import session from "cloakroom/express";
 * app.use(session({ secret: process.env.SESSION_SECRET }));
 * app.post("/login", async (req, res) => { …; req.session.userId = user.id; res.send("Logged in"); }); // ticket rotated
 */
function createSessionMiddleware(options: SessionOptions): SessionMiddleware {
  if (!options || typeof options !== "object") throw new TypeError("options must be an object");
  if (options.genid !== undefined && typeof options.genid !== "function") throw new TypeError("genid option must be a function");
  if (options.unset !== undefined && options.unset !== "keep" && options.unset !== "destroy") {
    throw new TypeError("unset option must be \"destroy\" or \"keep\"");
  }
  const name = options.name ?? options.key;
  const cookieOption = options.cookie;
  const staticCookie: CookieOptions = typeof cookieOption === "function" ? {} : { ...cookieOption };
  if (name !== undefined) staticCookie.name = name;
  const { store, legacy } = resolveStore(options, staticCookie.maxAge ?? null);
  if (store instanceof MemoryStore && process.env.NODE_ENV === "production") {
    console.warn("cloakroom: MemoryStore keeps sessions in this process only; use a shared store when running several instances.");
  }
  const manager = new SessionManager({ ...options, store, cookie: staticCookie, hashKeys: !legacy });
  const proxy = options.proxy;
  const genid = options.genid;
  const unsetDestroys = options.unset === "destroy";
  const cookiePath = staticCookie.path ?? "/";

  const middleware = function cloakroomSession(req: SessionRequest, res: ServerResponse, next: (error?: unknown) => void): void {
    if (req.session) return next();
    // express-session's check: the session applies under cookie.path only ("/", the default, is every path).
    if (cookiePath !== "/") {
      const path = (req.originalUrl ?? req.url ?? "/").split("?")[0] ?? "/";
      if (!path.startsWith(cookiePath)) return next();
    }
    const context: RequestContext = {
      cookieHeader: req.headers.cookie,
      secure: isSecure(req, proxy),
      // A header read is cheap: the User-Agent is compared with the session's on every load (detection only).
      userAgent: req.headers["user-agent"],
      // Resolved only when a record is created or an event logged: req.ip runs Express's trust-proxy rules.
      client: () => ({ ip: req.ip ?? req.socket.remoteAddress }),
      cookie: typeof cookieOption === "function" ? { ...cookieOption(req), ...(name === undefined ? {} : { name }) } : undefined,
      generateTicket: genid ? () => genid(req) : undefined,
    };
    const loaded = manager.loadNow(context, (m) => new ExpressSession(m, req));
    const start = (session: ExpressSession): void => {
      req.session = session;
      // A plain property (express-session's too), kept current by the session's methods.
      req.sessionID = session.id;
      req.sessionStore = store;
      interceptResponse(res, req, session, manager, unsetDestroys);
      next();
    };
    // A session at hand (no cookie, or a store that answered from memory) goes on at once: no promise hop.
    if (loaded instanceof Promise) loaded.then(start, next);
    else start(loaded);
  } as SessionMiddleware;

  middleware.manager = manager;
  middleware.store = store;
  return middleware as SessionMiddleware;
}

/**
 * Commit before the response is finished, so the client never gets an answer before its session is written.
 * express-session patches res.end the same way (STYLE.md: keep such interception inside the adapter).
 * The two wrappers are closures over this request's state rather than shared functions reading a symbol property:
 * on Express's req/res objects every added property costs V8 a fresh hidden class (Express's setPrototypeOf leaves
 * them off the shared transition tree), which measured more than two small closures.
 */
function interceptResponse(res: ServerResponse, req: SessionRequest, session: ExpressSession, manager: SessionManager, unsetDestroys: boolean): void {
  const writeHead = res.writeHead as (...args: unknown[]) => ServerResponse;
  const end = res.end as (...args: unknown[]) => ServerResponse;
  let ended = false;
  /** The session's part of the response is decided (committed, or failed closed): writeHead adds nothing more. */
  let settled = false;
  /** The Set-Cookie line this middleware put on the response, if any. */
  let appended: string | null = null;

  const applyCookie = (line: string | null): void => {
    if (!line || line === appended || res.headersSent) return;
    setSessionCookie(res, line, appended);
    appended = line;
  };

  res.writeHead = function interceptedWriteHead(this: ServerResponse): ServerResponse {
    if (!settled) applyCookie(manager.prepare(session));
    // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
    return writeHead.apply(this, arguments as unknown as unknown[]);
  } as ServerResponse["writeHead"];

  res.end = function interceptedEnd(this: ServerResponse): ServerResponse {
    // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
    const args = arguments as unknown as unknown[];
    if (ended) return end.apply(this, args);
    ended = true;
    const unset = unsetDestroys && req.session !== session && !stateOf(session).destroyed;
    if (!unset) {
      // The request is over, its data final. With nothing to write, end now: no store call, no promise hop.
      const line = manager.finish(session);
      if (line !== undefined) {
        applyCookie(line);
        settled = true;
        return end.apply(this, args);
      }
    }
    const pending = unset ? manager.destroy(session).then(() => manager.commit(session)) : manager.commit(session);
    pending.then(
      (line) => {
        applyCookie(line);
        settled = true;
        end.apply(this, args);
      },
      () => {
        settled = true;
        failClosedResponse(res, end, args);
      },
    );
    return this;
  } as ServerResponse["end"];
}

function failClosedResponse(res: ServerResponse, end: (...args: unknown[]) => ServerResponse, args: unknown[]): void {
  if (res.headersSent) {
    // The status line is out already: finish the response as written; the session change is lost.
    end.apply(res, args);
    return;
  }
  // Fail closed: the session could not be written, so the client must not believe it was (a 503, no cookie).
  for (const header of res.getHeaderNames()) res.removeHeader(header);
  res.statusCode = 503;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  end.call(res, "Service Unavailable");
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
      sessionStore: SessionStore;
    }
  }
}
