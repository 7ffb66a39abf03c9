/** Small pure helpers of the SessionManager: option checks, summaries, the lazily resolved client facts. */
import type { SessionManagerOptions, SessionSummary } from "./manager-types.js";
import type { SessionState } from "./state.js";
import type { SessionRecord, SessionStore } from "./types.js";

/** The longest User-Agent kept in a record's meta. */
export const USER_AGENT_LIMIT = 512;
const MIN_PRODUCTION_SECRET = 32;
let warnedShortSecret = false;

export function persistentMaxAge(cookieMaxAge: number | null, absoluteExpiresAt: number, now: number): number | null {
  return cookieMaxAge === null ? null : Math.min(cookieMaxAge, absoluteExpiresAt - now);
}

export function summarize(key: string, record: SessionRecord): SessionSummary {
  const summary: SessionSummary = {
    key,
    createdAt: record.createdAt,
    touchedAt: record.touchedAt,
    idleExpiresAt: record.idleExpiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    expiresAt: Math.min(record.idleExpiresAt, record.absoluteExpiresAt),
    persistent: record.cookieMaxAge !== null,
  };
  if (record.meta.ip !== undefined) summary.ip = record.meta.ip;
  if (record.meta.userAgent !== undefined) summary.userAgent = record.meta.userAgent;
  return summary;
}

/**
 * Fill in the state's client facts once per request, from the adapter's resolver (given the framework's request):
 * resolving `req.ip` through Express's trust-proxy rules costs microseconds a read-only request need not pay.
 */
export function resolveClient(state: SessionState, resolver: ((request: unknown) => ClientFacts) | undefined): void {
  if (state.clientResolved) return;
  state.clientResolved = true;
  if (!resolver) return;
  const client = resolver(state.request);
  if (client.ip !== undefined) state.ip = client.ip;
  if (client.userAgent !== undefined) state.userAgent = client.userAgent.slice(0, USER_AGENT_LIMIT);
}

/** The client's address and User-Agent as an adapter resolves them. */
export interface ClientFacts {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** `{ ip }` for an event, or `{}`. */
export function ipOf(state: SessionState): { ip?: string } {
  return state.ip === undefined ? {} : { ip: state.ip };
}

/** The `cookie.maxAge` option as the engine takes it: a positive number of ms, or `null` (a browser-session cookie). */
export function checkedMaxAge(maxAge: number | null | undefined): number | null {
  if (maxAge === undefined || maxAge === null) return null;
  if (typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge <= 0) throw new TypeError("cookie.maxAge option must be a positive number of milliseconds or null");
  return maxAge;
}

/** The `identityKey` option: the data key naming the user (`userId` by default). */
export function checkedIdentityKey(key: unknown): string {
  if (key === undefined || key === null) return "userId";
  if (typeof key !== "string" || key === "") throw new TypeError("identityKey option must be a non-empty string");
  return key;
}

export function checkGeneratedTicket(ticket: unknown): string {
  if (typeof ticket !== "string" || ticket.length < 16 || ticket.length > 256) {
    throw new TypeError("genid option must return a string of 16 to 256 characters");
  }
  return ticket;
}

export function normalizeSecrets(secret: SessionManagerOptions["secret"]): (string | Buffer)[] {
  if (secret === undefined || secret === null || (typeof secret === "string" && secret === "")) {
    throw new TypeError("secret option required for sessions");
  }
  const secrets = Array.isArray(secret) ? [...secret] : [secret as string | Buffer];
  const shortest = Math.min(...secrets.map((s) => (typeof s === "string" || Buffer.isBuffer(s) ? s.length : 0)));
  if (shortest < MIN_PRODUCTION_SECRET) {
    if (process.env.NODE_ENV === "production") {
      throw new TypeError(`secret option: every secret must be at least ${MIN_PRODUCTION_SECRET} characters in production`);
    }
    if (!warnedShortSecret) {
      warnedShortSecret = true;
      process.emitWarning(`cloakroom: a session secret is shorter than ${MIN_PRODUCTION_SECRET} characters; this is refused when NODE_ENV=production`);
    }
  }
  return secrets;
}

/** Every method of the SessionStore contract (`peek` and `touchRecord` are optional and not listed). */
const STORE_METHODS = [
  "get", "create", "patch", "touch", "destroy", "listByUser", "destroyByUser", "clear", "count", "sweep", "close",
] as const;

/**
 * Whether a value implements the (Promise-based) SessionStore contract, as opposed to a legacy express-session store:
 * a `capabilities` object and every method of the contract. The one check of "is this a store" (the manager, the
 * express adapter and CachedStore's option check all use it).
 */
export function isSessionStore(store: unknown): store is SessionStore {
  if (typeof store !== "object" || store === null) return false;
  const s = store as Record<string, unknown>;
  return typeof s.capabilities === "object" && s.capabilities !== null &&
    STORE_METHODS.every((method) => typeof s[method] === "function");
}
