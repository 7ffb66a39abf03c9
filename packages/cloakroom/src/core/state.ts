/**
 * The per-request engine state behind a Session object, and change tracking of its data.
 * The data itself lives on the Session object as own enumerable properties (express-session's
 * `req.session.userId = …`); the bookkeeping sits behind a symbol so it never reaches JSON, the store or `Object.keys`.
 */
import type { ResolvedCookie } from "./cookie.js";
import type { Plan } from "./plan.js";
import type { SessionRecord } from "./types.js";

/** What the engine knows about one request's session. Internal: adapters reach it through {@link stateOf}. */
export interface SessionState {
  /** Cookie attributes for this request; `null` when no cookie may be set (Secure demanded over HTTP). */
  cookie: ResolvedCookie | null;
  /** The client presented a value for our cookie name (valid or not). */
  hadCookie: boolean;
  /** The presented ticket verified with an older secret: re-sign it on this response. */
  needsResign: boolean;
  /** Ticket and store key of the stored session, `null` while the session is not stored. */
  ticket: string | null;
  key: string | null;
  /** The stored record as of the last load or write. */
  record: SessionRecord | null;
  /** Serialized value of each data key as of the last load or write (the baseline for change tracking). */
  snapshot: Map<string, string>;
  /** This session's persistent cookie lifetime (ms) or `null`; compared with `record.cookieMaxAge` to detect change. */
  cookieMaxAge: number | null;
  /** Force a touch (slide the idle window) on commit: `session.touch()`. */
  forceTouch: boolean;
  /** Force a new ticket on commit: `session.rotate()`. */
  forceRotate: boolean;
  /** The data key naming the user. */
  identityKey: string;
  /** The identity key was assigned during this request (even to the same value): a login, so rotate the ticket. */
  identityAssigned: boolean;
  destroyed: boolean;
  /** The stored session went away during this request (regenerate): clear the cookie unless a new one is stored. */
  clearCookie: boolean;
  /** The Set-Cookie line to send with the response, if any. */
  setCookie: string | null;
  /** The identity key's current value (the key is an accessor, see {@link loadData}). */
  identity: unknown;
  /** What commit() will do, once decided for this request (the manager's plan; cleared when anything changes it). */
  plan: Plan | null;
  /** Request facts captured for the record's meta. */
  ip: string | undefined;
  userAgent: string | undefined;
  /** Resolves ip and userAgent on first use (then cleared). */
  client: (() => { ip?: string | undefined; userAgent?: string | undefined }) | undefined;
  /** Ticket generator for this request (express-session's `genid(req)`), when configured. */
  generateTicket: (() => string) | undefined;
}

/**
 * Every state starts with the same fields in the same order (no optional ones added later), so V8 gives all of them
 * one hidden class; and a state starts with this shared, never-mutated baseline instead of a Map of its own.
 */
export const EMPTY_SNAPSHOT: Map<string, string> = new Map();

const STATE = Symbol("cloakroom.session.state");

/**
 * The engine's bookkeeping for a session.
 * @internal for adapters
 */
export function stateOf(session: object): SessionState {
  const state = (session as { [STATE]?: SessionState })[STATE];
  if (!state) throw new TypeError("not a cloakroom session");
  return state;
}

/** Attach engine state to a session object without making it enumerable. */
export function attachState(session: object, state: SessionState): void {
  Object.defineProperty(session, STATE, { value: state, enumerable: false, writable: false, configurable: false });
}

/** The serialized form used for change tracking: JSON, as every store keeps it. `undefined` = "not stored". */
export function serializeValue(value: unknown): string | undefined {
  return typeof value === "function" || typeof value === "symbol" ? undefined : JSON.stringify(value);
}

/**
 * Replace the data of a session object with `data`, and reset the change-tracking baseline to it.
 * Keys are defined, not assigned, so a stored `__proto__` key cannot change the object's prototype.
 */
export function loadData(session: object, state: SessionState, data: Record<string, unknown>): void {
  for (const key of Object.keys(session)) delete (session as Record<string, unknown>)[key];
  const snapshot = new Map<string, string>();
  state.snapshot = snapshot;
  state.identityAssigned = false;
  for (const key of Object.keys(data)) {
    const json = serializeValue(data[key]);
    if (json === undefined) continue;
    // Stores hand out copies (a contract rule), so the value is this request's own: no second copy needed.
    const value: unknown = data[key];
    if (key === state.identityKey) defineIdentity(session, state, value);
    else Object.defineProperty(session, key, { value, enumerable: true, writable: true, configurable: true });
    snapshot.set(key, json);
  }
}

/**
 * The identity key is an accessor, so that assigning it — even the same user again, as the seed's
 * `req.session.userId = user._id` does at every login — is seen as a login and rotates the ticket
 * (ASVS 5.0 V7.2.4: new token at login and re-authentication). `delete` removes it like any property.
 * The getter and setter are the same two functions for every session (the value lives in the state): V8 keeps one
 * hidden class for all sessions instead of building a new one per request around fresh closures.
 */
function defineIdentity(session: object, state: SessionState, initial: unknown): void {
  state.identity = initial;
  Object.defineProperty(session, state.identityKey, IDENTITY_ACCESSOR);
}

const IDENTITY_ACCESSOR: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: object): unknown {
    return stateOf(this).identity;
  },
  set(this: object, next: unknown): void {
    const state = stateOf(this);
    state.identity = next;
    state.identityAssigned = true;
  },
};

/** The top-level keys that changed since the baseline, as a store patch. */
export interface DataChanges {
  /** Changed or new keys with their values as JSON gives them back (what every store will return). */
  set: Record<string, unknown>;
  unset: string[];
  /** The serialized current data (the next baseline, and the source of {@link currentData}). */
  serialized: Map<string, string>;
  changed: boolean;
}

/**
 * Compare the session's data with its baseline. Nested mutation is caught because each top-level value is compared
 * in serialized form (express-session hashes the whole session instead; this also says WHICH keys changed).
 * Only changed keys are parsed back, so a read-only request costs one JSON.stringify per key.
 */
export function diffData(session: object, snapshot: Map<string, string>): DataChanges {
  const set: Record<string, unknown> = {};
  const serialized = new Map<string, string>();
  const unset: string[] = [];
  let changed = false;
  for (const key of Object.keys(session)) {
    const json = serializeValue((session as Record<string, unknown>)[key]);
    if (json === undefined) continue;
    serialized.set(key, json);
    if (snapshot.get(key) !== json) {
      defineKey(set, key, JSON.parse(json));
      changed = true;
    }
  }
  for (const key of snapshot.keys()) {
    if (!serialized.has(key)) {
      unset.push(key);
      changed = true;
    }
  }
  return { set, unset, serialized, changed };
}

/** The whole current data as plain JSON values (what a new record stores). */
export function currentData(changes: DataChanges): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, json] of changes.serialized) defineKey(data, key, JSON.parse(json));
  return data;
}

function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
