/**
 * The options every adapter takes (cloakroom/express, cloakroom/fastify, cloakroom/hono), checked and turned into a
 * SessionManager's: the engine's settings, the store as given (a SessionStore or any express-session store), the
 * cookie name and attributes, and `genid(request)`. What is framework-specific (Express's `unset`, cookie-parser's
 * `req.secret`, `session.MemoryStore`) stays in that adapter's options file.
 */
import type { CookieOptions } from "../core/cookie.js";
import type { ClientFacts } from "../core/manager-helpers.js";
import { SessionManager, isSessionStore, type SessionManagerOptions } from "../core/manager.js";
import { resolveTimeoutPolicy, type TimeoutPolicy } from "../core/timeouts.js";
import type { SessionStore } from "../core/types.js";
import { LegacyStoreAdapter, isLegacyStore, type LegacyStore } from "../stores/legacy.js";
import { MemoryStore } from "../stores/memory.js";

/** The engine's options that an adapter passes on unchanged. */
export type EngineOptions = Omit<SessionManagerOptions, "store" | "cookie" | "hashKeys" | "randomBytes" | "secret" | "genid" | "client" | "parsedCookies">;

/** Options shared by every adapter; `Request` is the framework's request type (for `genid`). */
export interface AdapterOptions<Request> extends EngineOptions {
  /** One secret or several (the first signs, all verify); at least 32 characters when NODE_ENV=production. */
  secret: SessionManagerOptions["secret"];
  /** A SessionStore (MemoryStore, RedisStore, …) or any express-session store (connect-redis, …). @default new MemoryStore() */
  store?: SessionStore | LegacyStore;
  /** Cookie name. @default "__Host-sid" over HTTPS, "sid" over HTTP */
  name?: string;
  /**
   * Cookie attributes (see {@link CookieOptions} for the defaults), or a function of the request returning them,
   * called once per request (express-session 1.19's form; the `name` option still names the cookie). A request
   * outside `path` gets no session and no cookie (each adapter's rule: cookie-path.ts).
   */
  cookie?: CookieOptions | ((request: Request) => CookieOptions);
  /** Make the ticket yourself, from the request (express-session's genid). Entropy is then your responsibility. */
  genid?: (request: Request) => string;
}

/** The keys of {@link AdapterOptions} that are not the engine's. */
const ADAPTER_KEYS = new Set(["secret", "store", "name", "cookie", "genid"]);

/** Common options after the checks: what {@link createManager} needs besides the secret and the store. */
export interface CommonOptions {
  engine: EngineOptions;
  /** The static cookie attributes, with the `name` option folded in (empty when `cookie` is a function). */
  cookie: CookieOptions;
  /** `cookie` given as a function: the request's attributes, with the `name` option folded in. */
  cookieOf: ((request: unknown) => CookieOptions) | undefined;
  name: string | undefined;
  genid: ((request: unknown) => string) | undefined;
}

/**
 * Check the options every adapter shares and split them into the engine's and the adapter's.
 * @param options the adapter's options object
 * @param ownKeys the adapter's own option names (left out of the engine's options)
 * @throws {TypeError} naming the option, for bad configuration
 */
export function resolveCommonOptions(options: object, ownKeys: readonly string[] = []): CommonOptions {
  if (!options || typeof options !== "object") throw new TypeError("options must be an object");
  const given = options as Partial<AdapterOptions<unknown>> & { key?: string; cookie?: unknown };
  if (given.genid !== undefined && typeof given.genid !== "function") throw new TypeError("genid option must be a function");
  if (Array.isArray(given.secret) && given.secret.length === 0) throw new TypeError("secret option array must contain one or more strings");
  const name = given.name || given.key || undefined;
  const perRequest = typeof given.cookie === "function" ? (given.cookie as (request: unknown) => CookieOptions) : undefined;
  const cookie: CookieOptions = perRequest ? {} : { ...(given.cookie as CookieOptions | undefined) };
  if (name !== undefined) cookie.name = name;
  const cookieOf = perRequest && ((request: unknown): CookieOptions => {
    const options = perRequest(request);
    if (!options || typeof options !== "object") throw new TypeError("cookie option function must return an object");
    return name === undefined ? { ...options } : { ...options, name };
  });
  const engine: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!ADAPTER_KEYS.has(key) && !ownKeys.includes(key)) engine[key] = value;
  return { engine: engine as EngineOptions, cookie, cookieOf, name, genid: given.genid };
}

/** What a SessionManager of an adapter is made of, besides the common options. */
export interface ManagerParts {
  secret: NonNullable<SessionManagerOptions["secret"]>;
  store: SessionStore;
  hashKeys: boolean;
  client: (request: unknown) => ClientFacts;
  parsedCookies?: SessionManagerOptions["parsedCookies"];
}

/** The one place an adapter's SessionManager is constructed. @throws {TypeError} for bad configuration */
export function createManager(common: CommonOptions, parts: ManagerParts): SessionManager {
  return new SessionManager({
    ...common.engine,
    secret: parts.secret,
    store: parts.store,
    cookie: common.cookie,
    hashKeys: parts.hashKeys,
    genid: common.genid,
    client: parts.client,
    ...(parts.parsedCookies ? { parsedCookies: parts.parsedCookies } : {}),
  });
}

/**
 * The store the engine talks to: a SessionStore as it is, an express-session store behind the legacy adapter (raw
 * ids as keys, for compatibility with its data), or a new MemoryStore when none is given.
 * @throws {TypeError} when `given` is neither
 */
export function resolveEngineStore(given: unknown, options: EngineOptions, cookie: CookieOptions): { store: SessionStore; hashKeys: boolean } {
  if (given === undefined) {
    warnIfProcessLocal(true);
    return { store: new MemoryStore(), hashKeys: true };
  }
  if (isSessionStore(given)) return { store: given, hashKeys: true };
  if (isLegacyStore(given)) return { store: legacyView(given, options, cookie), hashKeys: false };
  throw new TypeError("store option must be a SessionStore or an express-session store (get/set/destroy)");
}

/** A process-local store in production: say once that several instances will not share it. */
export function warnIfProcessLocal(memory: boolean): void {
  if (memory && process.env.NODE_ENV === "production") {
    console.warn("cloakroom: MemoryStore keeps sessions in this process only; use a shared store when running several instances.");
  }
}

/** An express-session store behind the SessionStore contract, with the lifetimes the engine will use. */
export function legacyView(store: LegacyStore, options: EngineOptions, cookie: CookieOptions): SessionStore {
  const policy = policyOf(options, cookie);
  return new LegacyStoreAdapter(store, {
    idleTimeout: policy.idleTimeout,
    absoluteTimeout: policy.absoluteTimeout,
    ...(options.identityKey ? { identityKey: options.identityKey } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** The lifetimes the engine will use, so sessions written through a store's own API get them too. */
export function policyOf(options: EngineOptions, cookie: CookieOptions): TimeoutPolicy {
  return resolveTimeoutPolicy(options, typeof cookie.maxAge === "number" ? cookie.maxAge : null);
}

/** Whether an X-Forwarded-Proto header (its first value, from a trusted proxy) says the client used HTTPS. */
export function forwardedHttps(header: string | string[] | undefined): boolean {
  const first = (Array.isArray(header) ? header[0] : header)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}
