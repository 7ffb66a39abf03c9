/**
 * The per-request engine state behind a Session object, and change tracking of its data.
 * The data itself lives on the Session object as own enumerable properties (express-session's
 * `req.session.userId = …`); the bookkeeping is this state, reachable only through the Session's private field.
 */
import type { ResolvedCookie } from "./cookie.js";
import type { SessionManager } from "./manager.js";
import type { CookieHost } from "./session-cookie.js";
import type { SessionRecord } from "./types.js";

/** What the engine knows about one request's session. Internal to core/. */
export interface SessionState extends CookieHost {
  /** The manager that loaded it (`null` for a session object made outside the engine). */
  engine: SessionManager | null;
  /** The session object the request currently uses (regenerate() replaces it). */
  session: object | null;
  /** Makes a new session object for this state (the adapter's Session subclass). */
  create: ((handle: never) => object) | null;
  /** Cookie attributes for this request (per-session changes copy them first). */
  cookie: ResolvedCookie;
  /** Whether this request may carry the cookie at all (not when Secure is demanded over plain HTTP). */
  cookieAllowed: boolean;
  /** The client presented a value for our cookie name (valid or not). */
  hadCookie: boolean;
  /** The presented ticket verified with an older secret: re-sign it on this response. */
  needsResign: boolean;
  /** Ticket and store key of the stored session, `null` while the session is not stored. */
  ticket: string | null;
  key: string | null;
  /** The stored record as of the last load or write. */
  record: SessionRecord | null;
  /**
   * `touchAfter` had passed since the record's last write when it was loaded (false once this request wrote it): a
   * boolean, judged at the load's clock reading, so that a read-only plan needs no clock and the state no number box.
   */
  touchDue: boolean;
  /** Each data key's value as of the last load or write (the baseline for change tracking), see {@link Snapshot}. */
  snapshot: Snapshot;
  /** Force a touch (slide the idle window) on commit: `session.touch()`. */
  forceTouch: boolean;
  /** Force a new ticket on commit: `session.rotate()`. */
  forceRotate: boolean;
  /** The data key naming the user. */
  identityKey: string;
  /** The identity key was assigned during this request (even to the same value): a login, so rotate the ticket. */
  identityAssigned: boolean;
  /** The identity key's current value (the key is an accessor, see {@link loadData}). */
  identity: unknown;
  destroyed: boolean;
  /** The stored session went away during this request (regenerate): clear the cookie unless a new one is stored. */
  clearCookie: boolean;
  /**
   * A ticket issued for this session whose cookie has gone out already (headers written before the data was final):
   * the commit must store the session under it.
   */
  issuedTicket: string | null;
  /** A Set-Cookie line an earlier commit of this request made (save(), rotate()), still owed to the response. */
  owedCookie: string | null;
  /** The framework's request object, handed to `genid` and to the client-facts resolver. Opaque to the engine. */
  request: unknown;
  /** Names that are never data on this session's class (`cookie`, its members), see {@link reservedNamesOf}. */
  reserved: ReadonlySet<string>;
  /** A commit in flight (an explicit save() not awaited): the next commit waits for it and decides afresh. */
  pending: Promise<unknown> | null;
  /** Request facts captured for the record's meta (resolved on first use). */
  ip: string | undefined;
  userAgent: string | undefined;
  clientResolved: boolean;
}

/** The fields a load starts from; everything else starts empty. */
export interface StateInit {
  engine: SessionManager | null;
  create: ((handle: never) => object) | null;
  cookie: ResolvedCookie;
  cookieAllowed: boolean;
  cookieMaxAge: number | null;
  now: () => number;
  identityKey: string;
  request: unknown;
  ip: string | undefined;
  userAgent: string | undefined;
}

/**
 * The one factory of session states: every state has the same fields in the same order (no optional ones added
 * later), so V8 gives all of them one hidden class.
 */
export function createSessionState(init: StateInit): SessionState {
  const now = init.now;
  return {
    engine: init.engine,
    session: null,
    create: init.create,
    cookie: init.cookie,
    cookieAllowed: init.cookieAllowed,
    cookieMaxAge: init.cookieMaxAge,
    cookieExpiresAt: init.cookieMaxAge === null ? null : now() + init.cookieMaxAge,
    now,
    hadCookie: false,
    needsResign: false,
    ticket: null,
    key: null,
    record: null,
    touchDue: false,
    snapshot: EMPTY_SNAPSHOT,
    forceTouch: false,
    forceRotate: false,
    identityKey: init.identityKey,
    identityAssigned: false,
    identity: undefined,
    destroyed: false,
    clearCookie: false,
    issuedTicket: null,
    owedCookie: null,
    request: init.request,
    reserved: DEFAULT_RESERVED,
    pending: null,
    ip: init.ip,
    userAgent: init.userAgent,
    clientResolved: false,
  };
}

/**
 * The baseline of change tracking: per data key, a primitive value as it is (compared with `===`, no JSON), or the
 * JSON text of an object value (nested mutation is caught by comparing texts). A read-only request on a session whose
 * values are primitives (a user id, a flag) therefore costs no JSON work at all.
 */
export type Snapshot = Map<string, unknown>;

/** An object value's JSON text in a {@link Snapshot} (a class, so it can never be mistaken for a string value). */
export class Serialized {
  constructor(readonly json: string) {}
}

const DEFAULT_RESERVED: ReadonlySet<string> = new Set(["cookie"]);

/** The shared, never-mutated baseline of a session that holds nothing. */
export const EMPTY_SNAPSHOT: Snapshot = new Map();

/**
 * The snapshot entry of a value, or `undefined` for values JSON leaves out (functions, symbols, undefined).
 * Numbers JSON cannot hold become what the store will give back (`NaN` and infinities → `null`, `-0` → `0`).
 */
export function snapshotOf(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value + 0 : null;
    case "object":
      return value === null ? null : new Serialized(JSON.stringify(value));
    case "bigint":
      // JSON.stringify throws for a BigInt: raise the same TypeError here, where the app can see it.
      return new Serialized(JSON.stringify(value));
    default:
      return undefined;
  }
}

/** Whether `value` still equals its baseline entry. */
function unchanged(base: unknown, value: unknown): boolean {
  if (typeof value === "object" && value !== null) return base instanceof Serialized && base.json === JSON.stringify(value);
  return !(base instanceof Serialized) && base === snapshotOf(value);
}

/** What the baseline entry stands for, as a store gives it back (objects parsed afresh: a copy). */
export function valueOf(entry: unknown): unknown {
  return entry instanceof Serialized ? JSON.parse(entry.json) : entry;
}

/**
 * Names that are never data: `cookie` and the members of the Session's classes (`save`, `id`, …), which a stored key
 * must not shadow. Object.prototype's names (`constructor`, `hasOwnProperty`, `__proto__`, …) are data like any other
 * key, as in every store (docs/architecture.md, "Data keys"): `__proto__` is defined as an own property, never set.
 */
export function reservedNamesOf(session: object): ReadonlySet<string> {
  const names = new Set<string>(["cookie"]);
  for (let proto = Object.getPrototypeOf(session); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    // Every class prototype has a `constructor`: not a member an application calls, so it stays a data key.
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== "constructor") names.add(name);
  }
  return names;
}

/**
 * Replace the data of a session object with `data`, and reset the change-tracking baseline to it. Reserved names
 * (the Session's methods, `id`, `cookie`) in stored data are left out, as express-session does.
 * @param fresh the session object was just made and holds nothing but `cookie` (skips clearing it)
 * @param shared `data` came from SessionStore.peek, whose record a store may share between reads (frozen): its object
 * values are copied (from their snapshot's JSON, already made), and its baseline is made once per record
 * ({@link sharedBaselineOf}); otherwise it is this request's own copy
 */
export function loadData(session: object, state: SessionState, data: Record<string, unknown>, fresh = false, shared = false): void {
  const target = session as Record<string, unknown>;
  // `fresh`: a session object just made, holding nothing but its cookie (the load itself): nothing to remove.
  if (!fresh) for (const key of Object.keys(session)) if (key !== "cookie") delete target[key];
  state.identityAssigned = false;
  state.identity = undefined;
  const baseline = shared ? sharedBaselineOf(data, state.reserved) : baselineOf(data, state.reserved);
  state.snapshot = baseline.snapshot;
  const { keys, entries } = baseline;
  const identityKey = state.identityKey;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i]!;
    // get() hands out a copy, peek() may share its record (the store contract): only the latter's objects need a copy.
    const entry = entries[i];
    const value = shared && entry instanceof Serialized ? valueOf(entry) : data[key];
    if (key === identityKey) defineIdentity(session, state, value);
    else defineKey(target, key, value);
  }
}

/** The data keys of a record a session takes in, their snapshot entries, and the baseline made of them. */
interface Baseline {
  reserved: ReadonlySet<string>;
  keys: string[];
  entries: unknown[];
  snapshot: Snapshot;
}

const EMPTY_BASELINE: Baseline = Object.freeze({ reserved: DEFAULT_RESERVED, keys: [], entries: [], snapshot: EMPTY_SNAPSHOT });

/** What loadData takes in from `data`: every key but reserved names and values JSON leaves out. */
function baselineOf(data: Record<string, unknown>, reserved: ReadonlySet<string>): Baseline {
  const names = Object.keys(data);
  if (names.length === 0) return EMPTY_BASELINE;
  const keys: string[] = [];
  const entries: unknown[] = [];
  const snapshot: Snapshot = new Map();
  for (const key of names) {
    if (reserved.has(key)) continue;
    const entry = snapshotOf(data[key]);
    if (entry === undefined) continue;
    keys.push(key);
    entries.push(entry);
    snapshot.set(key, entry);
  }
  return { reserved, keys, entries, snapshot };
}

/**
 * The baselines of shared records (peek), by their frozen data: a session read again before it changes reuses its
 * record's baseline instead of making a Map and a snapshot entry per key on every request (0.4k instructions a
 * request at steady state, for a WeakMap lookup). Safe to share: no baseline is ever mutated (a commit makes a new
 * one), and the entries are primitives or JSON text. Held as long as the store keeps the record shared.
 */
const sharedBaselines = new WeakMap<object, Baseline>();

function sharedBaselineOf(data: Record<string, unknown>, reserved: ReadonlySet<string>): Baseline {
  const known = sharedBaselines.get(data);
  if (known !== undefined && known.reserved === reserved) return known;
  const baseline = baselineOf(data, reserved);
  if (baseline !== EMPTY_BASELINE) sharedBaselines.set(data, baseline);
  return baseline;
}

/**
 * The identity key is an accessor, so that assigning it — even the same user again, as the seed's
 * `req.session.userId = user._id` does at every login — is seen as a login and rotates the ticket
 * (ASVS 5.0 V7.2.4: new token at login and re-authentication). `delete` removes it like any property.
 * The getter and setter are the same two functions for every session (the value lives in the state), so V8 reuses
 * one transition for all sessions instead of building a hidden class per request around fresh closures.
 */
function defineIdentity(session: object, state: SessionState, initial: unknown): void {
  state.identity = initial;
  Object.defineProperty(session, state.identityKey, identityAccessor);
}

/** How the identity accessor reaches the state of a session (set by session.ts, which owns the private field). */
let stateOfSession!: (session: object) => SessionState;

/** @internal session.ts registers its private-field reader here. */
export function registerStateReader(reader: (session: object) => SessionState): void {
  stateOfSession = reader;
}

const identityAccessor: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: object): unknown {
    return stateOfSession(this).identity;
  },
  set(this: object, next: unknown): void {
    const state = stateOfSession(this);
    state.identity = next;
    state.identityAssigned = true;
  },
};

/** The top-level keys that changed since the baseline, as a store patch. */
export interface DataChanges {
  /** Changed or new keys with their values as JSON gives them back (what every store will return). */
  set: Record<string, unknown>;
  unset: string[];
  /** The current data as snapshot entries (the next baseline, and the source of {@link currentData}); when nothing
   * changed, the baseline itself is current (and this field is empty). */
  current: Snapshot;
  changed: boolean;
}

/**
 * Compare the session's data with its baseline. Nested mutation is caught because each object value is compared
 * in serialized form (express-session hashes the whole session instead; this also says WHICH keys changed).
 * @param reserved names never treated as data (`cookie`)
 */
export function diffData(session: object, snapshot: Snapshot, reserved: ReadonlySet<string>): DataChanges {
  const source = session as Record<string, unknown>;
  const keys = Object.keys(session);
  // The common case first, without allocating: every key is in the baseline, unchanged, and none went away.
  let same = 0;
  for (const key of keys) {
    // `cookie` (always first, always reserved) by a pointer compare before the Set: one hash lookup less a request.
    if (key === "cookie" || reserved.has(key)) continue;
    const base = snapshot.get(key);
    if (base === undefined || !unchanged(base, source[key])) {
      same = -1;
      break;
    }
    same += 1;
  }
  if (same === snapshot.size) return UNCHANGED;
  let set: Record<string, unknown> | null = null;
  let unset: string[] | null = null;
  const current: Snapshot = new Map();
  for (const key of keys) {
    if (reserved.has(key)) continue;
    const value = source[key];
    const base = snapshot.get(key);
    if (base !== undefined && unchanged(base, value)) {
      current.set(key, base);
      continue;
    }
    const entry = snapshotOf(value);
    if (entry === undefined) continue;
    current.set(key, entry);
    set ??= {};
    defineKey(set, key, valueOf(entry));
  }
  if (current.size !== snapshot.size || set !== null) {
    for (const key of snapshot.keys()) if (!current.has(key)) (unset ??= []).push(key);
  }
  if (set === null && unset === null) return UNCHANGED;
  return { set: set ?? NO_KEYS, unset: unset ?? NO_NAMES, current, changed: true };
}

const NO_KEYS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const NO_NAMES: string[] = Object.freeze([]) as unknown as string[];
/**
 * The answer for a session whose data did not change (the common read-only request): one shared object, so the diff
 * allocates nothing. Its `current` is empty: callers keep their own baseline when `changed` is false.
 */
export const UNCHANGED: DataChanges = Object.freeze({ set: NO_KEYS, unset: NO_NAMES, current: EMPTY_SNAPSHOT, changed: false });

/** The whole current data as plain JSON values (what a new record stores). */
export function currentData(current: Snapshot): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, entry] of current) defineKey(data, key, valueOf(entry));
  return data;
}

function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
