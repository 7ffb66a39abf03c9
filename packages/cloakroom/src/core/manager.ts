/**
 * The SessionManager: load a request's session from its cookie, and commit what the request changed.
 * No framework and no I/O of its own — the store does the I/O, adapters map requests and responses.
 */
import { LRUCache } from "lru-cache";
import { resolveCookie, readCookieValues, serializeClearingCookie, serializeSessionCookie, type CookieOptions, type ResolvedCookie } from "./cookie.js";
import { callStore } from "./errors.js";
import { Session } from "./session.js";
import { createSigner, type Signer } from "./signing.js";
import { attachState, currentData, diffData, loadData, stateOf, type DataChanges, type SessionState } from "./state.js";
import { generateTicket, logLabelOf, storeKeyOf, type RandomBytes } from "./ticket.js";
import { isLive, resolveTimeoutPolicy, shouldTouch, slideIdleExpiry, type TimeoutPolicy } from "./timeouts.js";
import type { SessionRecord, SessionStore } from "./types.js";

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
  /**
   * The client's address and User-Agent, asked for only when they are needed (a new record's meta, an event):
   * resolving `req.ip` through Express's trust-proxy rules costs microseconds a read-only request need not pay.
   */
  client?: () => { ip?: string | undefined; userAgent?: string | undefined };
  /** Per-request cookie options (express-session's `cookie` as a function); defaults to the manager's. */
  cookie?: CookieOptions;
  /** Per-request ticket generator (express-session's `genid(req)`). */
  generateTicket?: () => string;
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

type Plan = (
  | { kind: "none" }
  | { kind: "create" | "rotate"; ticket: string; key: string }
  | { kind: "patch" }
  | { kind: "touch" }
) & {
  /** The data changes the plan was decided on, reusable by commit() when the request's data can no longer change. */
  changes: DataChanges;
  final: boolean;
};

const USER_AGENT_LIMIT = 512;
const MIN_PRODUCTION_SECRET = 32;
let warnedShortSecret = false;

/**
 * Loads and commits sessions. One per application.
 * @throws {TypeError} at construction, naming the option, for bad configuration
 * @example
 * const manager = new SessionManager({ store: new MemoryStore(), secret: process.env.SESSION_SECRET! });
 * const session = await manager.load({ cookieHeader: req.headers.cookie, secure: true });
 * session.userId = "42";               // rotates the ticket on commit
 * const setCookie = await manager.commit(session);
 */
export class SessionManager {
  readonly store: SessionStore;
  readonly policy: TimeoutPolicy;
  readonly identityKey: string;
  private readonly signer: Signer;
  private readonly cookieOptions: CookieOptions;
  private readonly now: () => number;
  private readonly randomBytes: RandomBytes | undefined;
  private readonly hashKeys: boolean;
  private readonly saveUninitialized: boolean;
  private readonly rolling: boolean;
  private readonly resave: boolean;
  private readonly onEvent: ((event: SessionEvent) => void) | undefined;
  /** Cookie attributes per request security, settled once for the static options. */
  private readonly cookieCache = new Map<boolean, ResolvedCookie | null>();
  /**
   * Cookie values that verified, with their store keys: a returning client costs a map lookup instead of an HMAC and
   * a SHA-256 (about 3 µs of a ~10 µs engine budget per request). Only values signed by our secrets get in, and
   * lru-cache bounds it, so a spray of forged cookies neither fills it nor evicts faster than one entry per request.
   */
  private readonly verified = new LRUCache<string, { ticket: string; key: string; needsResign: boolean }>({ max: 10_000 });

  constructor(options: SessionManagerOptions) {
    if (!options || typeof options !== "object") throw new TypeError("options must be an object");
    if (!isSessionStore(options.store)) throw new TypeError("store option must implement the SessionStore contract");
    this.store = options.store;
    const secrets = normalizeSecrets(options.secret);
    this.signer = createSigner(secrets);
    this.cookieOptions = { ...options.cookie };
    const maxAge = this.cookieOptions.maxAge ?? null;
    if (maxAge !== null && (typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge <= 0)) {
      throw new TypeError("cookie.maxAge option must be a positive number of milliseconds or null");
    }
    this.policy = resolveTimeoutPolicy(options, maxAge);
    this.identityKey = options.identityKey ?? "userId";
    if (typeof this.identityKey !== "string" || this.identityKey === "") throw new TypeError("identityKey option must be a non-empty string");
    this.now = options.now ?? Date.now;
    this.randomBytes = options.randomBytes;
    this.hashKeys = options.hashKeys ?? true;
    this.saveUninitialized = options.saveUninitialized ?? false;
    this.rolling = options.rolling ?? false;
    this.resave = options.resave ?? false;
    this.onEvent = options.onEvent;
  }

  /** The store key of a ticket. */
  keyOf(ticket: string): string {
    return this.hashKeys ? storeKeyOf(ticket) : ticket;
  }

  /** Verify a signed cookie value and derive its store key, or `null` for anything we did not sign. */
  private verify(value: string): { ticket: string; key: string; needsResign: boolean } | null {
    const cached = this.verified.get(value);
    if (cached) return cached;
    const unsigned = this.signer.unsign(value);
    if (!unsigned) return null;
    const entry = { ticket: unsigned.ticket, key: this.keyOf(unsigned.ticket), needsResign: unsigned.needsResign };
    this.verified.set(value, entry);
    return entry;
  }

  /**
   * Read the session a request presents. A missing, malformed, forged, expired or unknown cookie gives a new empty
   * session — no store record is created for it (never adopt an id the server did not issue).
   * @param context the request facts
   * @param create builds the session object (adapters pass their subclass)
   * @throws {SessionStoreUnavailableError} when the store fails
   */
  async load<S extends object = Session>(
    context: RequestContext,
    create: (manager: SessionManager) => S = (manager) => new Session(manager) as S,
  ): Promise<S> {
    const cookie = this.cookieFor(context);
    const state: SessionState = {
      cookie,
      hadCookie: false,
      needsResign: false,
      ticket: null,
      key: null,
      record: null,
      snapshot: new Map(),
      cookieMaxAge: (context.cookie ?? this.cookieOptions).maxAge ?? null,
      forceTouch: false,
      forceRotate: false,
      identityKey: this.identityKey,
      identityAssigned: false,
      destroyed: false,
      clearCookie: false,
      setCookie: null,
    };
    if (context.ip !== undefined) state.ip = context.ip;
    if (context.userAgent !== undefined) state.userAgent = context.userAgent.slice(0, USER_AGENT_LIMIT);
    if (context.client) state.client = context.client;
    if (context.generateTicket) state.generateTicket = context.generateTicket;
    const session = create(this);
    attachState(session, state);
    if (!cookie) return session;

    const values = readCookieValues(context.cookieHeader, cookie.name);
    if (values.length === 0) return session;
    state.hadCookie = true;
    const verified = values.map((value) => this.verify(value)).filter((v) => v !== null);
    const tickets = new Set(verified.map((v) => v.ticket));
    if (tickets.size === 0) {
      // A dead cookie is not cleared: a request racing a login may still carry the previous ticket, and clearing it
      // would delete the new cookie that the login response just set.
      this.emit({ type: "invalid_cookie", ...ipOf(state) });
      return session;
    }
    if (tickets.size > 1) {
      // Two different valid tickets under one name: one may be tossed in by a sibling host. Trust neither.
      this.emit({ type: "ambiguous_cookie", ...ipOf(state) });
      return session;
    }
    const found = verified[0]!;
    const key = found.key;
    const record = await callStore("get", () => this.store.get(key));
    if (!record || !isLive(record, this.now())) {
      this.emit({ type: "unknown_session", keyLabel: logLabelOf(key), ...ipOf(state) });
      return session;
    }
    const agent = context.userAgent?.slice(0, USER_AGENT_LIMIT);
    if (agent !== undefined && record.meta.userAgent !== undefined && agent !== record.meta.userAgent) {
      this.emit({ type: "user_agent_changed", keyLabel: logLabelOf(key), userId: record.userId, ...ipOf(state) });
    }
    state.ticket = found.ticket;
    state.key = key;
    state.record = record;
    state.needsResign = found.needsResign;
    state.cookieMaxAge = record.cookieMaxAge;
    loadData(session, state, record.data);
    return session;
  }

  /**
   * Decide this response's Set-Cookie line (and, for new or rotated sessions, the new ticket). Synchronous, so an
   * adapter can call it when headers are written; idempotent until the next commit.
   * @returns the Set-Cookie line, or `null`
   */
  prepare(session: object, options: { final?: boolean } = {}): string | null {
    const state = stateOf(session);
    this.plan(session, state, options.final ?? false);
    return state.setCookie;
  }

  /** Whether committing the session would write to the store (after {@link prepare}; a no-op commit can be skipped). */
  hasPendingWrite(session: object): boolean {
    const state = stateOf(session);
    const plan = this.plan(session, state, false);
    if (plan.kind !== "none") return true;
    // A "none" decided before the data changed (headers sent early) still owes a patch.
    return state.record !== null && !state.destroyed && (plan.changes.changed || state.cookieMaxAge !== state.record.cookieMaxAge);
  }

  /**
   * Write what the request changed: nothing, a touch, a patch of only the changed keys, a new record, or a rotation
   * (new ticket, data kept, old record destroyed) when `data[identityKey]` changed.
   * @returns the Set-Cookie line to send, or `null`
   * @throws {SessionStoreUnavailableError} when the store fails
   */
  async commit(session: object): Promise<string | null> {
    const state = stateOf(session);
    const plan = this.plan(session, state, false);
    plans.delete(state);
    const now = this.now();
    // A plan decided at the end of the request saw the final data; one decided when headers went out may not have.
    const changes = plan.final ? plan.changes : diffData(session, state.snapshot);
    switch (plan.kind) {
      case "create":
      case "rotate": {
        const record = this.newRecord(currentData(changes), state, now);
        if (plan.kind === "rotate" && state.key) {
          const oldKey = state.key;
          // Destroy first: if the write of the new record fails, the old ticket is dead anyway (fail closed).
          await callStore("destroy", () => this.store.destroy(oldKey));
        }
        await callStore("create", () => this.store.create(plan.key, record));
        this.emit({ type: plan.kind === "rotate" ? "rotated" : "created", keyLabel: logLabelOf(plan.key), userId: record.userId, ...ipOf(state) });
        Object.assign(state, { ticket: plan.ticket, key: plan.key, record, snapshot: changes.serialized, forceRotate: false, identityAssigned: false });
        break;
      }
      case "patch":
      case "touch":
      case "none": {
        if (!state.record || !state.key || state.destroyed) break;
        const key = state.key;
        const record = state.record;
        const idleExpiresAt = slideIdleExpiry({ absoluteExpiresAt: record.absoluteExpiresAt, cookieMaxAge: state.cookieMaxAge }, now, this.policy);
        const maxAgeChanged = state.cookieMaxAge !== record.cookieMaxAge;
        if (changes.changed || maxAgeChanged) {
          const patch = { set: changes.set, unset: changes.unset, idleExpiresAt, touchedAt: now, ...(maxAgeChanged ? { cookieMaxAge: state.cookieMaxAge } : {}) };
          const applied = await callStore("patch", () => this.store.patch(key, patch));
          if (applied) {
            state.record = { ...record, data: currentData(changes), idleExpiresAt, touchedAt: now, cookieMaxAge: state.cookieMaxAge, version: record.version + 1 };
            state.snapshot = changes.serialized;
          } else {
            this.forget(state); // destroyed elsewhere meanwhile: never resurrect it
          }
        } else if (plan.kind === "touch") {
          const applied = await callStore("touch", () => this.store.touch(key, idleExpiresAt, now));
          if (applied) state.record = { ...record, idleExpiresAt, touchedAt: now, version: record.version + 1 };
          else this.forget(state);
        }
        state.forceTouch = false;
        break;
      }
    }
    return state.setCookie;
  }

  /** Delete the stored session now and clear the cookie on the response. */
  async destroy(session: object): Promise<void> {
    const state = stateOf(session);
    const key = state.key;
    if (key) {
      await callStore("destroy", () => this.store.destroy(key));
      this.emit({ type: "destroyed", keyLabel: logLabelOf(key), userId: state.record?.userId ?? null, ...ipOf(state) });
    }
    const hadTicket = state.hadCookie || state.ticket !== null;
    this.forget(state);
    loadData(session, state, {});
    state.destroyed = true;
    plans.delete(state);
    state.setCookie = hadTicket && state.cookie ? serializeClearingCookie(state.cookie) : null;
  }

  /** express-session's regenerate: destroy the stored session and continue with a new, empty one. */
  async regenerate(session: object): Promise<void> {
    const state = stateOf(session);
    const key = state.key;
    if (key) await callStore("destroy", () => this.store.destroy(key));
    const hadTicket = state.hadCookie || state.ticket !== null;
    this.forget(state);
    loadData(session, state, {});
    state.destroyed = false;
    state.clearCookie = hadTicket;
    plans.delete(state);
  }

  /** Re-read the session's data from the store. @throws {Error} "failed to load session" when it is gone */
  async reload(session: object): Promise<void> {
    const state = stateOf(session);
    const key = state.key;
    const record = key ? await callStore("get", () => this.store.get(key)) : null;
    if (!record || !isLive(record, this.now())) throw new Error("failed to load session");
    state.record = record;
    state.cookieMaxAge = record.cookieMaxAge;
    loadData(session, state, record.data);
    plans.delete(state);
  }

  /** Issue a new ticket now, keeping the data; the old ticket stops working. A no-op for a session not yet stored. */
  async rotate(session: object): Promise<void> {
    const state = stateOf(session);
    if (!state.record) return;
    state.forceRotate = true;
    plans.delete(state);
    await this.commit(session);
  }

  /** Mark the session to slide its idle window on commit, even inside `touchAfter`. */
  touch(session: object): void {
    const state = stateOf(session);
    state.forceTouch = true;
    plans.delete(state);
  }

  /**
   * The live sessions of a user, newest first, for a "your devices" page.
   * @throws {TypeError} when the store cannot list by user (Memcached)
   */
  async listUserSessions(userId: string): Promise<SessionSummary[]> {
    const sessions = await callStore("listByUser", () => this.store.listByUser(userId));
    const now = this.now();
    return sessions.filter((s) => isLive(s.record, now)).map((s) => summarize(s.key, s.record));
  }

  /** Revoke one session of a user. @returns false when `key` is not one of the user's live sessions */
  async revokeSession(userId: string, key: string): Promise<boolean> {
    if (typeof key !== "string" || key.length === 0 || key.length > 512) return false;
    const record = await callStore("get", () => this.store.get(key));
    if (!record || record.userId !== userId) return false;
    await callStore("destroy", () => this.store.destroy(key));
    this.emit({ type: "revoked", userId, keyLabel: logLabelOf(key), count: 1 });
    return true;
  }

  /** Revoke every session of a user (log out everywhere), optionally keeping one (the current device). */
  async revokeUserSessions(userId: string, options: { except?: string } = {}): Promise<number> {
    const count = await callStore("destroyByUser", () => this.store.destroyByUser(userId, options));
    this.emit({ type: "revoked", userId, count });
    return count;
  }

  /** The summary of a stored session (for the dashboard), or `null` when not stored. */
  describe(session: object): SessionSummary | null {
    const state = stateOf(session);
    return state.key && state.record ? summarize(state.key, state.record) : null;
  }

  /** Forget the stored session (after destroy or when it vanished): the next commit may create a new one. */
  private forget(state: SessionState): void {
    state.ticket = null;
    state.key = null;
    state.record = null;
    state.forceRotate = false;
    state.forceTouch = false;
  }

  private cookieFor(context: RequestContext): ResolvedCookie | null {
    if (context.cookie) return resolveCookie(context.cookie, context.secure);
    let cookie = this.cookieCache.get(context.secure);
    if (cookie === undefined) {
      cookie = resolveCookie(this.cookieOptions, context.secure);
      this.cookieCache.set(context.secure, cookie);
    }
    return cookie;
  }

  private plan(session: object, state: SessionState, final: boolean): Plan {
    const existing = plans.get(state);
    if (existing) {
      // Keep the decision (and any ticket it issued: its cookie may be out already); refresh what changed.
      if (final && !existing.final) Object.assign(existing, { changes: diffData(session, state.snapshot), final: true });
      return existing;
    }
    const changes = diffData(session, state.snapshot);
    const plan: Plan = { ...this.decide(state, changes), changes, final };
    plans.set(state, plan);
    // A line decided earlier in this request (e.g. by an explicit save()) stays unless a newer decision replaces it.
    state.setCookie = this.cookieLine(plan, state) ?? state.setCookie;
    return plan;
  }

  private decide(state: SessionState, changes: DataChanges): DecidedPlan {
    if (state.destroyed || !state.cookie) return { kind: "none" };
    const now = this.now();
    const record = state.record;
    if (!record) {
      if (!changes.changed && !this.saveUninitialized) return { kind: "none" };
      return this.freshTicket("create", state);
    }
    if (state.forceRotate || state.identityAssigned || changes.serialized.get(this.identityKey) !== state.snapshot.get(this.identityKey)) {
      return this.freshTicket("rotate", state);
    }
    if (state.cookieMaxAge !== record.cookieMaxAge || changes.changed) return { kind: "patch" };
    if (state.forceTouch || this.resave || shouldTouch(record, now, this.policy)) return { kind: "touch" };
    return { kind: "none" };
  }

  private freshTicket(kind: "create" | "rotate", state: SessionState): DecidedPlan {
    const ticket = state.generateTicket ? checkGeneratedTicket(state.generateTicket()) : generateTicket(this.randomBytes);
    return { kind, ticket, key: this.keyOf(ticket) };
  }

  private cookieLine(plan: DecidedPlan, state: SessionState): string | null {
    if (!state.cookie) return null;
    if (state.destroyed) return state.setCookie;
    const now = this.now();
    if (plan.kind === "create" || plan.kind === "rotate") {
      const absoluteExpiresAt = now + this.policy.absoluteTimeout;
      return serializeSessionCookie(state.cookie, this.signer.sign(plan.ticket), { maxAgeMs: persistentMaxAge(state.cookieMaxAge, absoluteExpiresAt, now), now });
    }
    if (!state.ticket || !state.record) {
      // No stored session and nothing new to store: clear the cookie only if this request regenerated it away.
      return state.clearCookie ? serializeClearingCookie(state.cookie) : null;
    }
    const slid = plan.kind === "patch" || plan.kind === "touch";
    const persistent = state.cookieMaxAge !== null;
    if (state.needsResign || this.rolling || (slid && persistent) || state.cookieMaxAge !== state.record.cookieMaxAge) {
      return serializeSessionCookie(state.cookie, this.signer.sign(state.ticket), {
        maxAgeMs: persistentMaxAge(state.cookieMaxAge, state.record.absoluteExpiresAt, now),
        now,
      });
    }
    return null;
  }

  private newRecord(data: Record<string, unknown>, state: SessionState, now: number): SessionRecord {
    const absoluteExpiresAt = now + this.policy.absoluteTimeout;
    const identity = data[this.identityKey];
    const client = clientOf(state);
    const meta: SessionRecord["meta"] = {};
    if (client.ip !== undefined) meta.ip = client.ip;
    if (client.userAgent !== undefined) meta.userAgent = client.userAgent;
    return {
      userId: identity === undefined || identity === null ? null : String(identity),
      data,
      createdAt: now,
      touchedAt: now,
      idleExpiresAt: slideIdleExpiry({ absoluteExpiresAt, cookieMaxAge: state.cookieMaxAge }, now, this.policy),
      absoluteExpiresAt,
      cookieMaxAge: state.cookieMaxAge,
      version: 0,
      meta,
    };
  }

  private emit(event: SessionEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // A logging hook must never break a request.
    }
  }
}

type DecidedPlan = Plan extends infer P ? (P extends Plan ? Omit<P, "changes" | "final"> : never) : never;

/** The plan decided for a state since its last commit (kept outside the state so the state stays plain data). */
const plans = new WeakMap<SessionState, Plan>();

function persistentMaxAge(cookieMaxAge: number | null, absoluteExpiresAt: number, now: number): number | null {
  return cookieMaxAge === null ? null : Math.min(cookieMaxAge, absoluteExpiresAt - now);
}

function summarize(key: string, record: SessionRecord): SessionSummary {
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

/** The client's facts, resolved once per request from the adapter's lazy `client()` (or given up front). */
function clientOf(state: SessionState): { ip?: string; userAgent?: string } {
  if (state.client) {
    const client = state.client();
    delete state.client;
    if (client.ip !== undefined) state.ip = client.ip;
    if (client.userAgent !== undefined) state.userAgent = client.userAgent.slice(0, USER_AGENT_LIMIT);
  }
  const facts: { ip?: string; userAgent?: string } = {};
  if (state.ip !== undefined) facts.ip = state.ip;
  if (state.userAgent !== undefined) facts.userAgent = state.userAgent;
  return facts;
}

function ipOf(state: SessionState): { ip?: string } {
  const { ip } = clientOf(state);
  return ip === undefined ? {} : { ip };
}

function checkGeneratedTicket(ticket: unknown): string {
  if (typeof ticket !== "string" || ticket.length < 16 || ticket.length > 256) {
    throw new TypeError("genid option must return a string of 16 to 256 characters");
  }
  return ticket;
}

function normalizeSecrets(secret: SessionManagerOptions["secret"]): (string | Buffer)[] {
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

/** Whether a value implements the (Promise-based) SessionStore contract, as opposed to a legacy express-session store. */
export function isSessionStore(store: unknown): store is SessionStore {
  const s = store as Partial<SessionStore> | null;
  return !!s && typeof s === "object" && typeof s.capabilities === "object" && typeof s.get === "function" &&
    typeof s.create === "function" && typeof s.patch === "function" && typeof s.touch === "function" &&
    typeof s.destroy === "function" && typeof s.destroyByUser === "function";
}
