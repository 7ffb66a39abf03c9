/**
 * express-session's options, checked and turned into the engine's: the store (a SessionStore, `session.MemoryStore`
 * or any express-session store), the cookie, and the SessionManagers — one per secret (cookie-parser's `req.secret`
 * when no `secret` is given), and one through `session.MemoryStore`'s callback face when app code replaced its methods.
 */
import type { IncomingMessage } from "node:http";
import { resolveCookie, type CookieOptions } from "../core/cookie.js";
import type { SessionManager, SessionManagerOptions } from "../core/manager.js";
import { SessionCookie } from "../core/session-cookie.js";
import type { SessionStore } from "../core/types.js";
import type { LegacyStore } from "../stores/legacy.js";
import { MemoryStore } from "./express-memory-store.js";
import { createManager, legacyView, policyOf, resolveCommonOptions, resolveEngineStore, warnIfProcessLocal, type AdapterOptions } from "./options.js";

/** Options: express-session 1.19's, plus idleTimeout, absoluteTimeout, touchAfter and identityKey. */
export interface SessionOptions extends Omit<AdapterOptions<IncomingMessage>, "secret" | "store" | "cookie"> {
  /**
   * One secret or several (the first signs, all verify). Without it, cookie-parser's `req.secret` is used, as in
   * express-session (deprecated there too); at least 32 characters when NODE_ENV=production.
   */
  secret?: SessionManagerOptions["secret"];
  /** A SessionStore, `session.MemoryStore`, or any express-session store (connect-redis, …). @default new session.MemoryStore() */
  store?: SessionStore | LegacyStore | MemoryStore;
  /** express-session's undocumented alias of `name` (whose default is "sid" here, "connect.sid" there). */
  key?: string;
  /** Cookie attributes, or a function of the request returning them (express-session 1.19). */
  cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions);
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
  /** express-session's `cookie` given as a function of the request, with the `name` option folded in (options.ts's `cookieOf`). */
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
  const common = resolveCommonOptions(options, ["key", "proxy", "unset"]);
  if (options.unset !== undefined && options.unset !== "keep" && options.unset !== "destroy") {
    throw new TypeError("unset option must be \"destroy\" or \"keep\"");
  }
  const { name, cookie: staticCookie, engine, cookieOf: cookieOption } = common;
  const given = options.store ?? new MemoryStore();
  warnIfProcessLocal(given instanceof MemoryStore);
  if (options.secret === undefined) process.emitWarning("cloakroom/express: req.secret; provide secret option", "DeprecationWarning");

  const build = (secret: NonNullable<SessionManagerOptions["secret"]>, store: SessionStore, hashKeys: boolean): SessionManager =>
    createManager(common, { secret, store, hashKeys, client: clientOf, parsedCookies: parsedCookiesOf });

  let engineStore: SessionStore;
  let hashKeys = true;
  let face: { store: MemoryStore; view: () => SessionStore } | null = null;
  if (given instanceof MemoryStore) {
    engineStore = MemoryStore.nativeOf(given);
    let view: SessionStore | null = null;
    face = { store: given, view: () => (view ??= legacyView(given, engine, staticCookie)) };
  } else {
    ({ store: engineStore, hashKeys } = resolveEngineStore(given, engine, staticCookie));
  }
  const engines = new Engines(build, options.secret, engineStore, hashKeys, face);
  if (given instanceof MemoryStore) configureFace(given, options, staticCookie);
  const events = typeof (given as Partial<StoreEvents>).on === "function" ? (given as StoreEvents) : undefined;
  return { engines, store: given, proxy: options.proxy, cookieOption, name, cookiePath: staticCookie.path ?? "/", events };
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
