/** The SessionManager's public shapes: options, request context, events and the device-list summary. */
import type { CookieOptions } from "./cookie.js";
import type { ClientFacts } from "./manager-helpers.js";
import type { RandomBytes } from "./ticket.js";
import type { SessionStore } from "./types.js";

/** Something worth logging or counting. Never carries a ticket: `keyLabel` is a short hash of the store key. */
export interface SessionEvent {
  type:
    | "invalid_cookie"
    | "ambiguous_cookie"
    | "unknown_session"
    | "created"
    | "rotated"
    | "destroyed"
    | "revoked"
    /** A live session came back with another User-Agent than it was created with: worth logging, never a reason to refuse (OWASP: binding is for detection). */
    | "user_agent_changed";
  keyLabel?: string;
  userId?: string | null;
  ip?: string;
  /** For "revoked": how many sessions. */
  count?: number;
}

/** Options of {@link SessionManager}. Durations in ms. */
export interface SessionManagerOptions {
  store: SessionStore;
  /** One secret or several: the first signs, all verify. At least 32 characters in production. */
  secret: string | Buffer | readonly (string | Buffer)[];
  /** Cookie attributes; see {@link CookieOptions} for defaults. */
  cookie?: CookieOptions;
  /** @default 30 min (or `cookie.maxAge` when set) */
  idleTimeout?: number;
  /** @default 12 h (or `cookie.maxAge` when longer) */
  absoluteTimeout?: number;
  /** No store write for a read-only request until this long after the last write. @default min(60 s, idleTimeout / 2) */
  touchAfter?: number;
  /** The data key that names the user; a change to it rotates the ticket. @default "userId" */
  identityKey?: string;
  /** Store new sessions that hold no data (express-session's default is true). @default false */
  saveUninitialized?: boolean;
  /** Send the cookie on every response. @default false */
  rolling?: boolean;
  /** Slide the idle window on every request, ignoring touchAfter (express-session's resave for touch-less stores). @default false */
  resave?: boolean;
  /** Keys are SHA-256(ticket) (true), or the raw ticket for legacy express-session stores (false). @default true */
  hashKeys?: boolean;
  /** @default Date.now */
  now?: () => number;
  /** @default node:crypto randomBytes */
  randomBytes?: RandomBytes;
  /** Make tickets yourself, from the framework's request (express-session's `genid(req)`); 16 to 256 characters. */
  genid?: (request: unknown) => string;
  /**
   * Resolve the client's address and User-Agent from the framework's request, asked only when they are needed (a new
   * record's meta, an event): resolving `req.ip` through Express's trust-proxy rules costs microseconds a read-only
   * request need not pay.
   */
  client?: (request: unknown) => ClientFacts;
  /**
   * Cookies a cookie parser already read from the request (cookie-parser's `req.signedCookies`: values it verified;
   * `req.cookies`: raw values), asked only when the Cookie header holds no valid session cookie: express-session's
   * documented back-compat read.
   */
  parsedCookies?: (request: unknown) => { signed?: Record<string, unknown>; plain?: Record<string, unknown> } | undefined;
  onEvent?: (event: SessionEvent) => void;
}

/** What an adapter knows about the request. */
export interface RequestContext {
  /** The raw Cookie header (repeated headers joined with "; "). */
  cookieHeader: string | undefined;
  /** The request arrived over HTTPS, by the adapter's proxy rules. */
  secure: boolean;
  ip?: string;
  userAgent?: string;
  /** The framework's request, handed to the `genid` and `client` options; opaque to the engine. */
  request?: unknown;
  /** Per-request cookie options (express-session's `cookie` as a function); defaults to the manager's. */
  cookie?: CookieOptions;
  /**
   * An object that lives as long as the client's connection (Node's socket). The engine remembers the Cookie header it
   * last verified on each connection, so the next request on it that sends the same header skips parsing, the verified
   * cookie cache's hashing of the text, and its lookup: a string comparison instead.
   */
  connection?: object;
}

/** One entry of a user's device list. */
export interface SessionSummary {
  key: string;
  createdAt: number;
  touchedAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  expiresAt: number;
  persistent: boolean;
  ip?: string;
  userAgent?: string;
}
