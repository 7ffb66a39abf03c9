/**
 * The SessionManager: load a request's session from its cookie, and commit what the request changed.
 * No framework and no I/O of its own — the store does the I/O, adapters map requests and responses.
 */
import { LRUCache } from "lru-cache";
import { decodeCookieValue, readRawCookieValues, resolveCookie, serializeClearingCookie, type CookieOptions, type ResolvedCookie } from "./cookie.js";
import { callStore } from "./errors.js";
import { Session } from "./session.js";
import { createSigner, type Signer } from "./signing.js";
import { EMPTY_SNAPSHOT, attachState, currentData, diffData, loadData, stateOf, type SessionState } from "./state.js";
import { logLabelOf, storeKeyOf } from "./ticket.js";
import { isLive, resolveTimeoutPolicy, slideIdleExpiry, type TimeoutPolicy } from "./timeouts.js";
import { Planner } from "./plan.js";
import type { SessionRecord, SessionStore } from "./types.js";
import { USER_AGENT_LIMIT, ipOf, isSessionStore, normalizeSecrets, summarize } from "./manager-helpers.js";
import type { RequestContext, SessionEvent, SessionManagerOptions, SessionSummary } from "./manager-types.js";

export type { RequestContext, SessionEvent, SessionManagerOptions, SessionSummary } from "./manager-types.js";
export { isSessionStore } from "./manager-helpers.js";

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
  private readonly hashKeys: boolean;
  private readonly onEvent: ((event: SessionEvent) => void) | undefined;
  private readonly planner: Planner;
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
    this.hashKeys = options.hashKeys ?? true;
    this.onEvent = options.onEvent;
    this.planner = new Planner({
      policy: this.policy,
      identityKey: this.identityKey,
      signer: this.signer,
      now: this.now,
      randomBytes: options.randomBytes,
      keyOf: (ticket) => this.keyOf(ticket),
      saveUninitialized: options.saveUninitialized ?? false,
      rolling: options.rolling ?? false,
      resave: options.resave ?? false,
    });
  }

  /** The store key of a ticket. */
  keyOf(ticket: string): string {
    return this.hashKeys ? storeKeyOf(ticket) : ticket;
  }

  /**
   * Verify a cookie value as it appears in the header (percent-encoded) and derive its store key, or `null` for
   * anything we did not sign. The cache is keyed by the raw text, so a returning client skips the decoding too.
   */
  private verify(raw: string): { ticket: string; key: string; needsResign: boolean } | null {
    const cached = this.verified.get(raw);
    if (cached) return cached;
    const unsigned = this.signer.unsign(decodeCookieValue(raw));
    if (!unsigned) return null;
    const entry = { ticket: unsigned.ticket, key: this.keyOf(unsigned.ticket), needsResign: unsigned.needsResign };
    this.verified.set(raw, entry);
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
    return this.loadNow(context, create);
  }

  /**
   * {@link load}, synchronously when it can be: without a cookie to look up, or when the store can answer from
   * memory ({@link SessionStore.peek}), the session comes back as is, not in a Promise. Adapters use it so that a
   * request whose session is at hand pays no promise hop.
   * @throws {SessionStoreUnavailableError} (as a rejection) when the store fails
   */
  loadNow<S extends object = Session>(
    context: RequestContext,
    create: (manager: SessionManager) => S = (manager) => new Session(manager) as S,
  ): S | Promise<S> {
    const cookie = this.cookieFor(context);
    const state: SessionState = {
      cookie,
      hadCookie: false,
      needsResign: false,
      ticket: null,
      key: null,
      record: null,
      snapshot: EMPTY_SNAPSHOT,
      cookieMaxAge: (context.cookie ?? this.cookieOptions).maxAge ?? null,
      forceTouch: false,
      forceRotate: false,
      identityKey: this.identityKey,
      identityAssigned: false,
      identity: undefined,
      destroyed: false,
      clearCookie: false,
      setCookie: null,
      plan: null,
      ip: context.ip,
      userAgent: context.userAgent === undefined ? undefined : context.userAgent.slice(0, USER_AGENT_LIMIT),
      client: context.client,
      generateTicket: context.generateTicket,
    };
    const session = create(this);
    attachState(session, state);
    if (!cookie || context.cookieHeader === undefined) return session;

    const values = readRawCookieValues(context.cookieHeader, cookie.name);
    if (values.length === 0) return session;
    state.hadCookie = true;
    const found = this.verifyAll(values, state);
    if (!found) return session;
    const key = found.key;
    let peeked: SessionRecord | null | undefined;
    try {
      peeked = this.store.peek?.(key);
    } catch (error) {
      return callStore<S>("get", () => Promise.reject(error));
    }
    if (peeked !== undefined) return this.adopt(session, state, found, peeked);
    return callStore("get", () => this.store.get(key)).then((record) => this.adopt(session, state, found, record));
  }

  /** The one ticket the cookie values carry, or `null` (none verifies, or two different ones do: trust neither). */
  private verifyAll(values: string[], state: SessionState): { ticket: string; key: string; needsResign: boolean } | null {
    let found: { ticket: string; key: string; needsResign: boolean } | null = null;
    let ambiguous = false;
    for (const value of values) {
      const verified = this.verify(value);
      if (!verified) continue;
      if (found && found.ticket !== verified.ticket) ambiguous = true;
      found ??= verified;
    }
    if (!found) {
      // A dead cookie is not cleared: a request racing a login may still carry the previous ticket, and clearing it
      // would delete the new cookie that the login response just set.
      this.emit({ type: "invalid_cookie", ...ipOf(state) });
      return null;
    }
    if (ambiguous) {
      // Two different valid tickets under one name: one may be tossed in by a sibling host. Trust neither.
      this.emit({ type: "ambiguous_cookie", ...ipOf(state) });
      return null;
    }
    return found;
  }

  /** Make `record` (what the store gave for the presented ticket) the session's, if it is live. */
  private adopt<S extends object>(session: S, state: SessionState, found: { ticket: string; key: string; needsResign: boolean }, record: SessionRecord | null): S {
    const key = found.key;
    if (!record || !isLive(record, this.now())) {
      this.emit({ type: "unknown_session", keyLabel: logLabelOf(key), ...ipOf(state) });
      return session;
    }
    const agent = state.userAgent;
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
    this.planner.plan(session, state, options.final ?? false);
    return state.setCookie;
  }

  /** Whether committing the session would write to the store (after {@link prepare}; a no-op commit can be skipped). */
  hasPendingWrite(session: object): boolean {
    const state = stateOf(session);
    return this.planner.owesWrite(state, this.planner.plan(session, state, false));
  }

  /**
   * The end of a request in one call: {@link prepare} with the final data, and whether a {@link commit} must follow.
   * @returns the Set-Cookie line (or `null`) when nothing is left to write; `undefined` when commit() must run
   */
  finish(session: object): string | null | undefined {
    const state = stateOf(session);
    const plan = this.planner.plan(session, state, true);
    return this.planner.owesWrite(state, plan) ? undefined : state.setCookie;
  }

  /**
   * Write what the request changed: nothing, a touch, a patch of only the changed keys, a new record, or a rotation
   * (new ticket, data kept, old record destroyed) when `data[identityKey]` changed.
   * @returns the Set-Cookie line to send, or `null`
   * @throws {SessionStoreUnavailableError} when the store fails
   */
  async commit(session: object): Promise<string | null> {
    const state = stateOf(session);
    const plan = this.planner.plan(session, state, false);
    state.plan = null;
    const now = this.now();
    // A plan decided at the end of the request saw the final data; one decided when headers went out may not have.
    const changes = plan.final ? plan.changes : diffData(session, state.snapshot);
    switch (plan.kind) {
      case "create":
      case "rotate": {
        const record = this.planner.newRecord(currentData(changes), state, now);
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
    state.plan = null;
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
    state.plan = null;
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
    state.plan = null;
  }

  /** Issue a new ticket now, keeping the data; the old ticket stops working. A no-op for a session not yet stored. */
  async rotate(session: object): Promise<void> {
    const state = stateOf(session);
    if (!state.record) return;
    state.forceRotate = true;
    state.plan = null;
    await this.commit(session);
  }

  /** Mark the session to slide its idle window on commit, even inside `touchAfter`. */
  touch(session: object): void {
    const state = stateOf(session);
    state.forceTouch = true;
    state.plan = null;
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

  private emit(event: SessionEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // A logging hook must never break a request.
    }
  }
}

