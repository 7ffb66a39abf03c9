/**
 * The SessionManager: load a request's session from its cookie, and commit what the request changed.
 * No framework and no I/O of its own — the store does the I/O, adapters map requests and responses.
 */
import { expiresWins, lifetimeOf, settleCookie, type CookieOptions, type SettledCookie } from "./cookie.js";
import { callStore } from "./errors.js";
import { Session, type SessionHandle } from "./session.js";
import { createSigner, type Signer } from "./signing.js";
import { EMPTY_SNAPSHOT, createSessionState, loadData, reservedNamesOf, type SessionState } from "./state.js";
import { logLabelOf } from "./ticket.js";
import { TicketReader, type Verified } from "./ticket-reader.js";
import { isLive, resolveTimeoutPolicy, shouldTouch, type TimeoutPolicy } from "./timeouts.js";
import { Planner, applyOutcome, cookieExpiryOf, type Plan } from "./plan.js";
import type { SessionRecord, SessionStore } from "./types.js";
import { USER_AGENT_LIMIT, checkedIdentityKey, checkedMaxAge, ipOf, isSessionStore, normalizeSecrets, resolveClient, summarize } from "./manager-helpers.js";
import type { RequestContext, SessionEvent, SessionManagerOptions, SessionSummary } from "./manager-types.js";

export type { RequestContext, SessionEvent, SessionManagerOptions, SessionSummary } from "./manager-types.js";
export type { Plan, StoreCall } from "./plan.js";
export { isSessionStore } from "./manager-helpers.js";

const stateOf = Session.stateOf;

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
  /** Which ticket a request presents (cookie parsing, verification and its cache). */
  private readonly tickets: TicketReader;
  private readonly cookieOptions: CookieOptions;
  /** A fixed `cookie.expires` date in the options (ms), when it is the lifetime new sessions get. */
  private readonly fixedExpiry: number | null;
  private readonly now: () => number;
  private readonly onEvent: ((event: SessionEvent) => void) | undefined;
  private readonly client: SessionManagerOptions["client"];
  private readonly planner: Planner;
  /** Cookie attributes (and whether they may be set) for secure and plain requests, settled once for the static options. */
  private readonly secureCookie: SettledCookie;
  private readonly plainCookie: SettledCookie;
  /** The reserved names of the session class last seen (adapters use one class each). */
  private reserved: { kind: unknown; names: ReadonlySet<string> } = { kind: null, names: new Set(["cookie"]) };

  constructor(options: SessionManagerOptions) {
    if (!options || typeof options !== "object") throw new TypeError("options must be an object");
    if (!isSessionStore(options.store)) throw new TypeError("store option must implement the SessionStore contract");
    this.store = options.store;
    this.signer = createSigner(normalizeSecrets(options.secret));
    this.cookieOptions = { ...options.cookie };
    const maxAge = checkedMaxAge(this.cookieOptions.maxAge);
    this.policy = resolveTimeoutPolicy(options, maxAge);
    this.secureCookie = settleCookie(this.cookieOptions, true);
    this.plainCookie = settleCookie(this.cookieOptions, false);
    this.fixedExpiry = expiresWins(this.cookieOptions) ? (this.cookieOptions.expires as Date).getTime() : null;
    this.identityKey = checkedIdentityKey(options.identityKey);
    this.now = options.now ?? Date.now;
    this.tickets = new TicketReader(this.signer, options.hashKeys ?? true, options.parsedCookies, (type, state) => this.emit(type, state));
    this.onEvent = options.onEvent;
    this.client = options.client;
    this.planner = new Planner({
      policy: this.policy,
      identityKey: this.identityKey,
      signer: this.signer,
      randomBytes: options.randomBytes,
      keyOf: (ticket) => this.keyOf(ticket),
      genid: options.genid,
      saveUninitialized: options.saveUninitialized ?? false,
      rolling: options.rolling ?? false,
      resave: options.resave ?? false,
      wholeRecords: this.store.capabilities.wholeRecords === true,
      resolveClient: (state) => resolveClient(state, this.client),
      now: this.now,
    });
  }

  /** The store key of a ticket. */
  keyOf(ticket: string): string {
    return this.tickets.keyOf(ticket);
  }

  /**
   * Read the session a request presents. A missing, malformed, forged, expired or unknown cookie gives a new empty
   * session — no store record is created for it (never adopt an id the server did not issue).
   * @param context the request facts
   * @param create builds the session object from the handle (adapters pass their subclass)
   * @throws {SessionStoreUnavailableError} when the store fails
   */
  async load<S extends object = Session>(context: RequestContext, create?: (handle: SessionHandle) => S): Promise<S> {
    return this.loadNow(context, create);
  }

  /**
   * {@link load}, synchronously when it can be: without a cookie to look up, or when the store can answer from
   * memory ({@link SessionStore.peek}), the session comes back as is, not in a Promise. Adapters use it so that a
   * request whose session is at hand pays no promise hop.
   * @throws {SessionStoreUnavailableError} (as a rejection) when the store fails
   */
  loadNow<S extends object = Session>(context: RequestContext, create: (handle: SessionHandle) => S = newSession as never): S | Promise<S> {
    const cookieOptions = context.cookie;
    const resolved = cookieOptions ? settleCookie(cookieOptions, context.secure) : context.secure ? this.secureCookie : this.plainCookie;
    const cookie = resolved.cookie;
    const allowed = resolved.allowed;
    const maxAge = cookieOptions ? lifetimeOf(cookieOptions, this.now()) : this.fixedExpiry === null ? this.cookieOptions.maxAge ?? null : this.fixedExpiry - this.now();
    const state = createSessionState({
      engine: this,
      create: create as (handle: never) => object,
      cookie,
      cookieAllowed: allowed,
      cookieMaxAge: maxAge,
      now: this.now,
      identityKey: this.identityKey,
      request: context.request,
      ip: context.ip,
      userAgent: context.userAgent === undefined ? undefined : context.userAgent.slice(0, USER_AGENT_LIMIT),
    });
    const session = create(state as unknown as SessionHandle);
    state.session = session;
    state.reserved = this.reservedOf(session);
    if (!allowed) return session;

    const found = this.tickets.presented(context, cookie.name, state);
    if (!found) return session;
    const key = found.key;
    let peeked: SessionRecord | null | undefined;
    const now = this.now();
    try {
      // Our reading of Date.now, which a store on Date.now may use rather than read the clock again (SessionStore.peek).
      peeked = this.store.peek?.(key, this.now === Date.now ? now : undefined);
    } catch (error) {
      return callStore<S>("get", () => Promise.reject(error));
    }
    if (peeked !== undefined) return this.adopt(session, state, found, peeked, true, now);
    return callStore("get", () => this.store.get(key)).then((record) => this.adopt(session, state, found, record, false, now));
  }

  /** Make `record` (the store's for the presented ticket) the session's, if live at `now`; `shared`: from peek(), see loadData. */
  private adopt<S extends object>(session: S, state: SessionState, found: Verified, record: SessionRecord | null, shared: boolean, now: number): S {
    const key = found.key;
    if (!record || !isLive(record, now)) return this.unknown(session, state, key);
    // Reported only: without an event hook there is nobody to tell, and the record's meta stays unread.
    if (this.onEvent !== undefined) this.reportAgentChange(state, key, record);
    state.ticket = found.ticket;
    state.key = key;
    state.record = record;
    state.touchDue = shouldTouch(record, now, this.policy);
    state.needsResign = found.needsResign;
    state.cookieMaxAge = record.cookieMaxAge;
    state.cookieExpiresAt = cookieExpiryOf(record);
    loadData(session, state, record.data, true, shared);
    return session;
  }

  /**
   * Decide what committing the session now would do: the store call with its arguments, and the Set-Cookie line.
   * Synchronous, so an adapter can decide at the end of a request and skip the commit when the plan writes nothing.
   */
  decide(session: object): Plan {
    return this.planner.decide(stateOf(session));
  }

  /**
   * The Set-Cookie line for headers that go out now, before the request's data is final (a streamed response). A
   * new ticket it carries is kept for the commit.
   * @returns the line, or `null`
   */
  prepare(session: object): string | null {
    const state = stateOf(session);
    const plan = this.planner.decide(state);
    if (plan.setCookie !== null) this.planner.issue(state, plan);
    return plan.setCookie;
  }

  /**
   * Execute a plan (by default, a fresh decision): nothing, a touch, a patch of only the changed keys, a new record,
   * or a rotation (old record destroyed first, then the new one created) when `data[identityKey]` was assigned.
   * @returns the Set-Cookie line to send, or `null`
   * @throws {SessionStoreUnavailableError} when the store fails
   */
  async commit(session: object, plan?: Plan): Promise<string | null> {
    const state = stateOf(session);
    if (state.pending !== null) {
      // An earlier commit is still running (a save() not awaited): its outcome changes what this one must do.
      while (state.pending !== null) await state.pending.catch(() => undefined);
      plan = undefined;
    }
    const decided = plan ?? this.planner.decide(state);
    if (decided.call.op === "none") return decided.setCookie;
    const run = this.execute(state, decided);
    state.pending = run;
    try {
      return await run;
    } finally {
      if (state.pending === run) state.pending = null;
    }
  }

  private async execute(state: SessionState, decided: Plan): Promise<string | null> {
    const call = decided.call;
    const store = this.store;
    switch (call.op) {
      case "create":
        if (call.replaces !== null) {
          const old = call.replaces;
          await callStore("destroy", () => store.destroy(old));
        }
        await callStore("create", () => store.create(call.key, call.record));
        break;
      case "patch":
        if (!(await callStore("patch", () => store.patch(call.key, call.patch)))) return this.vanished(state);
        break;
      case "touch":
        if (!(await callStore("touch", () => store.touch(call.key, call.idleExpiresAt, call.touchedAt)))) return this.vanished(state);
        break;
      case "write":
        await callStore("set", () => store.create(call.key, call.record));
        break;
      case "touchRecord":
        await callStore("touch", () => store.touchRecord!(call.key, call.record));
        break;
    }
    const outcome = applyOutcome(state, decided);
    if (decided.event) this.emit(decided.event, state, { keyLabel: logLabelOf(outcome.key), userId: outcome.record.userId });
    return decided.setCookie;
  }

  /** The record went away during the request (destroyed elsewhere): never resurrect it. */
  private vanished(state: SessionState): null {
    this.forget(state);
    return null;
  }

  /** Delete the stored session now and clear the cookie on the response. Destroying twice is harmless. */
  async destroy(session: object): Promise<void> {
    const state = stateOf(session);
    const key = state.key;
    if (key) {
      await callStore("destroy", () => this.store.destroy(key));
      this.emit("destroyed", state, { keyLabel: logLabelOf(key), userId: state.record?.userId ?? null });
    }
    state.clearCookie ||= state.hadCookie || state.ticket !== null;
    this.forget(state);
    loadData(state.session ?? session, state, {});
    state.destroyed = true;
  }

  /**
   * express-session's regenerate: destroy the stored session and continue with a new, empty one (with the configured
   * cookie). By default the same object is emptied; with `replace`, a new session object takes its place for the rest
   * of the request (express-session puts a new one at `req.session`), and the old one is left as it was.
   * @returns the session object to use from now on
   */
  async regenerate<S extends object>(session: S, options: { replace?: boolean } = {}): Promise<S> {
    const state = stateOf(session);
    const key = state.key;
    if (key) await callStore("destroy", () => this.store.destroy(key));
    state.clearCookie ||= state.hadCookie || state.ticket !== null;
    this.forget(state);
    state.destroyed = false;
    state.cookieMaxAge = this.cookieOptions.maxAge ?? null;
    state.cookieExpiresAt = state.cookieMaxAge === null ? null : this.now() + state.cookieMaxAge;
    if (!options.replace) {
      loadData(session, state, {});
      return session;
    }
    state.snapshot = EMPTY_SNAPSHOT;
    state.identity = undefined;
    state.identityAssigned = false;
    const fresh = state.create!(state as never) as S;
    state.session = fresh;
    return fresh;
  }

  /** Re-read the session's data from the store. @throws {Error} "failed to load session" when it is gone */
  async reload(session: object): Promise<void> {
    const state = stateOf(session);
    const key = state.key;
    const record = key ? await callStore("get", () => this.store.get(key)) : null;
    const now = this.now();
    if (!record || !isLive(record, now)) throw new Error("failed to load session");
    state.record = record;
    state.touchDue = shouldTouch(record, now, this.policy);
    state.cookieMaxAge = record.cookieMaxAge;
    state.cookieExpiresAt = cookieExpiryOf(record);
    loadData(state.session ?? session, state, record.data);
  }

  /** Issue a new ticket now, keeping the data; the old ticket stops working. A no-op for a session not yet stored. */
  async rotate(session: object): Promise<void> {
    const state = stateOf(session);
    if (!state.record) return;
    state.forceRotate = true;
    await this.commit(session);
  }

  /** The request dropped its session (express-session's `unset: "keep"`: `req.session = null`): its changes are not
   * saved, and only a cookie that destroy() or regenerate() already owed the client is still sent. */
  detach(session: object): void {
    stateOf(session).session = null;
  }

  /** Reset the cookie's lifetime and slide the idle window on commit, even inside `touchAfter`. */
  touch(session: object): void {
    const state = stateOf(session);
    state.forceTouch = true;
    if (state.cookieMaxAge !== null) state.cookieExpiresAt = this.now() + state.cookieMaxAge;
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
    this.report({ type: "revoked", userId, keyLabel: logLabelOf(key), count: 1 });
    return true;
  }

  /** Revoke every session of a user (log out everywhere), optionally keeping one (the current device). */
  async revokeUserSessions(userId: string, options: { except?: string } = {}): Promise<number> {
    const count = await callStore("destroyByUser", () => this.store.destroyByUser(userId, options));
    this.report({ type: "revoked", userId, count });
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
    state.issuedTicket = null;
    state.forceRotate = false;
    state.forceTouch = false;
  }

  /** Names that are never data for this kind of session object (its class's members), computed once per class. */
  private reservedOf(session: object): ReadonlySet<string> {
    // By the class (a new session has no own `constructor`): a load, where Object.getPrototypeOf is a runtime call.
    const kind = (session as { constructor: unknown }).constructor;
    if (this.reserved.kind !== kind) this.reserved = { kind, names: reservedNamesOf(session) };
    return this.reserved.names;
  }

  /** The presented ticket has no live record (expired, destroyed, or never stored): the request goes on without one. */
  private unknown<S extends object>(session: S, state: SessionState, key: string): S {
    this.emit("unknown_session", state, { keyLabel: logLabelOf(key) });
    return session;
  }

  /** Report a session presented by another User-Agent than the one it was created by (`user_agent_changed`). */
  private reportAgentChange(state: SessionState, key: string, record: SessionRecord): void {
    const agent = state.userAgent, creator = record.meta.userAgent;
    if (agent !== undefined && creator !== undefined && agent !== creator) this.emit("user_agent_changed", state, { keyLabel: logLabelOf(key), userId: record.userId });
  }

  private emit(type: SessionEvent["type"], state: SessionState, extra: Partial<SessionEvent> = {}): void {
    if (!this.onEvent) return;
    resolveClient(state, this.client);
    this.report({ type, ...extra, ...ipOf(state) });
  }

  private report(event: SessionEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // A logging hook must never break a request.
    }
  }
}

function newSession(handle: SessionHandle): Session {
  return new Session(handle);
}
