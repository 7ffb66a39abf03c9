/**
 * express-session's options, checked and turned into the engine's: the store (a SessionStore, `session.MemoryStore`
 * or any express-session store), the cookie, and the SessionManagers — one per secret (cookie-parser's `req.secret`
 * when no `secret` is given), and one through `session.MemoryStore`'s callback face when app code replaced its methods.
 */
import type { IncomingMessage } from "node:http";
import { resolveCookie, type CookieOptions } from "../core/cookie.js";
import { SessionManager, isSessionStore, type SessionManagerOptions } from "../core/manager.js";
import { SessionCookie } from "../core/session-cookie.js";
import { resolveTimeoutPolicy, type TimeoutPolicy } from "../core/timeouts.js";
import type { SessionStore } from "../core/types.js";
import { LegacyStoreAdapter, isLegacyStore, type LegacyStore } from "../stores/legacy.js";
import { MemoryStore } from "./express-memory-store.js";

/** Options: express-session 1.19's, plus idleTimeout, absoluteTimeout, touchAfter and identityKey. */
export interface SessionOptions
  extends Omit<SessionManagerOptions, "store" | "cookie" | "hashKeys" | "randomBytes" | "secret" | "genid" | "client" | "parsedCookies"> {
  /**
   * One secret or several (the first signs, all verify). Without it, cookie-parser's `req.secret` is used, as in
   * express-session (deprecated there too); at least 32 characters when NODE_ENV=production.
   */
  secret?: SessionManagerOptions["secret"];
  /** A SessionStore, `session.MemoryStore`, or any express-session store (connect-redis, …). @default new session.MemoryStore() */
  store?: SessionStore | LegacyStore | MemoryStore;
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

/** The request properties the middleware reads (Express's, cookie-parser's). */
export type SessionRequest = IncomingMessage & {
  session?: unknown;
  sessionID?: string | null;
  secure?: boolean;
  ip?: string;
  originalUrl?: string;
  secret?: string;
  signedCookies?: Record<string, unknown>;
  cookies?: Record<string, unknown>;
};

/** Where the middleware listens for express-session's store events. */
interface StoreEvents {
  on(event: "connect" | "disconnect", listener: () => void): unknown;
}

/** What the middleware needs once the options are settled. */
export interface ResolvedSessionOptions {
  engines: Engines;
  /** The store as the app passed it (`req.sessionStore`). */
  store: SessionStore | LegacyStore | MemoryStore;
  proxy: boolean | undefined;
  /** express-session's `cookie` given as a function of the request. */
  cookieOption: ((req: IncomingMessage) => CookieOptions) | undefined;
  name: string | undefined;
  /** The static cookie's path (a function's path is read per request). */
  cookiePath: string;
  events: StoreEvents | undefined;
}

/** The client facts of a request, resolved only when a record or an event needs them. */
function clientOf(request: unknown): { ip?: string; userAgent?: string } {
  const req = request as SessionRequest;
  const ip = req.ip ?? req.socket?.remoteAddress;
  return ip === undefined ? {} : { ip };
}

/** cookie-parser's results, read only when the Cookie header holds no valid session cookie. */
function parsedCookiesOf(request: unknown): { signed?: Record<string, unknown>; plain?: Record<string, unknown> } | undefined {
  const req = request as SessionRequest;
  const signed = req.signedCookies;
  const plain = req.cookies;
  if (!signed && !plain) return undefined;
  return { ...(signed ? { signed } : {}), ...(plain ? { plain } : {}) };
}

/**
 * The SessionManagers of one middleware. The common case (a `secret` option, a store used as it is) is one manager;
 * the others are made on first use and kept.
 */
export class Engines {
  readonly store: SessionStore;
  #main: SessionManager | null;
  #last: SessionManager | null;
  readonly #bySecret = new Map<unknown, SessionManager>();
  readonly #patched = new Map<unknown, SessionManager>();

  constructor(
    private readonly build: (secret: NonNullable<SessionManagerOptions["secret"]>, store: SessionStore, hashKeys: boolean) => SessionManager,
    private readonly secret: SessionManagerOptions["secret"] | undefined,
    store: SessionStore,
    private readonly hashKeys: boolean,
    /** `session.MemoryStore` given as the store, and its callback face as a store (built when first needed). */
    private readonly face: { store: MemoryStore; view: () => SessionStore } | null,
  ) {
    this.store = store;
    this.#main = secret === undefined ? null : build(secret, store, hashKeys);
    this.#last = this.#main;
  }

  /** The manager for a request, or `null` when there is no secret to sign with. */
  managerFor(req: SessionRequest): SessionManager | null {
    const patched = this.face !== null && MemoryStore.isPatched(this.face.store);
    if (this.#main !== null && !patched) return this.#main;
    const secret = this.secret ?? req.secret;
    if (secret === undefined || secret === null || secret === "") return null;
    const cache = patched ? this.#patched : this.#bySecret;
    let manager = cache.get(secret);
    if (manager === undefined) {
      manager = patched ? this.build(secret, this.face!.view(), false) : this.build(secret, this.store, this.hashKeys);
      cache.set(secret, manager);
    }
    this.#last = manager;
    return manager;
  }

  /** The manager of the `secret` option (else the one used last), for device lists and revocation. */
  primary(): SessionManager {
    const manager = this.#main ?? this.#last;
    if (!manager) throw new TypeError("no session manager yet: without a secret option, one is made per req.secret on the first request");
    return manager;
  }
}

/**
 * Check express-session's options and settle what the middleware needs.
 * @throws {TypeError} naming the option, for bad configuration
 */
export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  if (!options || typeof options !== "object") throw new TypeError("options must be an object");
  if (options.genid !== undefined && typeof options.genid !== "function") throw new TypeError("genid option must be a function");
  if (options.unset !== undefined && options.unset !== "keep" && options.unset !== "destroy") {
    throw new TypeError("unset option must be \"destroy\" or \"keep\"");
  }
  if (Array.isArray(options.secret) && options.secret.length === 0) throw new TypeError("secret option array must contain one or more strings");
  const name = options.name || options.key || undefined;
  const cookieOption = typeof options.cookie === "function" ? options.cookie : undefined;
  const staticCookie: CookieOptions = cookieOption ? {} : { ...(options.cookie as CookieOptions | undefined) };
  if (name !== undefined) staticCookie.name = name;
  const given = options.store ?? new MemoryStore();
  if (given instanceof MemoryStore && process.env.NODE_ENV === "production") {
    console.warn("cloakroom: MemoryStore keeps sessions in this process only; use a shared store when running several instances.");
  }
  if (options.secret === undefined) process.emitWarning("cloakroom/express: req.secret; provide secret option", "DeprecationWarning");

  const { store: _store, name: _name, key: _key, cookie: _cookie, genid, proxy, unset: _unset, secret, ...engineOptions } = options;
  const build = (signWith: NonNullable<SessionManagerOptions["secret"]>, store: SessionStore, hashKeys: boolean): SessionManager =>
    new SessionManager({
      ...engineOptions,
      secret: signWith,
      store,
      cookie: staticCookie,
      hashKeys,
      genid: genid as ((request: unknown) => string) | undefined,
      client: clientOf,
      parsedCookies: parsedCookiesOf,
    });

  let engineStore: SessionStore;
  let hashKeys = true;
  let face: { store: MemoryStore; view: () => SessionStore } | null = null;
  if (given instanceof MemoryStore) {
    engineStore = MemoryStore.nativeOf(given);
    let view: SessionStore | null = null;
    face = { store: given, view: () => (view ??= legacyView(given, options, staticCookie)) };
  } else if (isSessionStore(given)) {
    engineStore = given;
  } else if (isLegacyStore(given)) {
    engineStore = legacyView(given, options, staticCookie);
    hashKeys = false;
  } else {
    throw new TypeError("store option must be a SessionStore or an express-session store (get/set/destroy)");
  }
  const engines = new Engines(build, secret, engineStore, hashKeys, face);
  if (given instanceof MemoryStore) configureFace(given, options, staticCookie);
  const events = typeof (given as Partial<StoreEvents>).on === "function" ? (given as StoreEvents) : undefined;
  return { engines, store: given, proxy, cookieOption, name, cookiePath: staticCookie.path ?? "/", events };
}

/** An express-session store (or `session.MemoryStore`'s callback face) behind the SessionStore contract. */
function legacyView(store: LegacyStore, options: SessionOptions, cookie: CookieOptions): SessionStore {
  const policy = policyOf(options, cookie);
  return new LegacyStoreAdapter(store, {
    idleTimeout: policy.idleTimeout,
    absoluteTimeout: policy.absoluteTimeout,
    ...(options.identityKey ? { identityKey: options.identityKey } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** The lifetimes the engine will use, so sessions written through a store's own API get them too. */
function policyOf(options: SessionOptions, cookie: CookieOptions): TimeoutPolicy {
  return resolveTimeoutPolicy(options, typeof cookie.maxAge === "number" ? cookie.maxAge : null);
}

/** Give `session.MemoryStore`'s face the lifetimes and the cookie attributes of this middleware. */
function configureFace(face: MemoryStore, options: SessionOptions, cookie: CookieOptions): void {
  const policy = policyOf(options, cookie);
  const attributes = SessionCookie.bound({ cookie: resolveCookie(cookie, false), cookieMaxAge: null, cookieExpiresAt: null, now: Date.now }).data;
  const { originalMaxAge: _o, expires: _e, ...kept } = attributes;
  const template: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kept)) if (value !== undefined) template[key] = value;
  MemoryStore.configure(face, {
    idleTimeout: policy.idleTimeout,
    absoluteTimeout: policy.absoluteTimeout,
    identityKey: options.identityKey ?? "userId",
    cookie: template,
  });
}
