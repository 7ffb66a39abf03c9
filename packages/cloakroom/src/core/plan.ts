/**
 * What a request's commit will do: {@link Planner.decide} looks at the session's state and data and returns a
 * complete, immutable {@link Plan} — the one store call with its arguments, the Set-Cookie line, and what the state
 * becomes once the call succeeded. The SessionManager only executes it (see docs/architecture.md, "Commit").
 */
import { serializeClearingCookie, serializeSessionCookie } from "./cookie.js";
import { checkGeneratedTicket, persistentMaxAge } from "./manager-helpers.js";
import type { Signer } from "./signing.js";
import { currentData, diffData, type SessionState, type Snapshot } from "./state.js";
import { generateTicket, type RandomBytes } from "./ticket.js";
import { slideIdleExpiry, type TimeoutPolicy } from "./timeouts.js";
import { expiresAtOf, type SessionPatch, type SessionRecord } from "./types.js";

/** The store call of a plan. */
export type StoreCall =
  | { readonly op: "none" }
  /** Slide the idle window. */
  | { readonly op: "touch"; readonly key: string; readonly idleExpiresAt: number; readonly touchedAt: number }
  /** Change only the named top-level keys (and the expiry). */
  | { readonly op: "patch"; readonly key: string; readonly patch: SessionPatch }
  /** A new record under a new ticket; for a rotation, `replaces` is the old key, destroyed first (fail closed). */
  | { readonly op: "create"; readonly key: string; readonly record: SessionRecord; readonly replaces: string | null }
  /** A store without per-key patches (an express-session store): write the whole record, or only touch it. */
  | { readonly op: "write" | "touchRecord"; readonly key: string; readonly record: SessionRecord };

/** What the session's state becomes once the store call succeeded. */
export interface PlanOutcome {
  readonly ticket: string;
  readonly key: string;
  readonly record: SessionRecord;
  readonly snapshot: Snapshot;
}

/** A decision for one request's session, complete and immutable. */
export interface Plan {
  readonly call: StoreCall;
  /** The Set-Cookie line for this response, or `null`. */
  readonly setCookie: string | null;
  /** Why the cookie line could not be made (an invalid expiry): express-session forwards it to `next(err)`. */
  readonly cookieError: Error | null;
  readonly outcome: PlanOutcome | null;
  /** The event to report once the call succeeded. */
  readonly event: "created" | "rotated" | null;
}

/** The manager's settings the decisions depend on. */
export interface PlannerSettings {
  policy: TimeoutPolicy;
  identityKey: string;
  signer: Signer;
  randomBytes: RandomBytes | undefined;
  keyOf: (ticket: string) => string;
  genid: ((request: unknown) => string) | undefined;
  saveUninitialized: boolean;
  rolling: boolean;
  resave: boolean;
  /** The store replaces whole records (an express-session store): no per-key patch. */
  wholeRecords: boolean;
  /** Fill in the state's client facts (ip, User-Agent) before they go into a new record. */
  resolveClient: (state: SessionState) => void;
  /** The manager's clock, read only by plans that write or make a cookie line. */
  now: () => number;
}

const NOTHING: StoreCall = Object.freeze({ op: "none" });
/** The plan of most read-only requests: no store call, no cookie. Shared, so deciding it allocates nothing. */
const NOTHING_PLAN: Plan = Object.freeze({ call: NOTHING, setCookie: null, cookieError: null, outcome: null, event: null });

/** Decides plans for one SessionManager. */
export class Planner {
  constructor(private readonly settings: PlannerSettings) {}

  /**
   * Decide what committing `state`'s session now would do. Pure but for one thing: a new ticket it issues is kept
   * in `state.issuedTicket` once the caller sends its cookie ({@link Planner.issue}), so later plans reuse it.
   */
  decide(state: SessionState): Plan {
    if (state.destroyed || !state.cookieAllowed || state.session === null) return this.plain(NOTHING, this.clearing(state));
    const changes = diffData(state.session, state.snapshot, state.reserved);
    const current = changes.changed ? changes.current : state.snapshot;
    const record = state.record;
    const key = state.key;
    if (record === null || key === null || state.ticket === null) {
      if (!changes.changed && !this.settings.saveUninitialized) return this.plain(NOTHING, this.clearing(state));
      return this.fresh(state, current, this.settings.now(), null);
    }
    const identity = this.settings.identityKey;
    // Unchanged data is the baseline itself (`current`): its identity cannot differ, so no lookup then.
    if (state.forceRotate || state.identityAssigned || (changes.changed && current.get(identity) !== state.snapshot.get(identity))) {
      return this.fresh(state, current, this.settings.now(), key);
    }
    const maxAgeChanged = state.cookieMaxAge !== record.cookieMaxAge;
    // Whether a touch is due was judged at load (state.touchDue): a read-only request reads the clock once, and a touch
    // that falls due while a request runs is made by the next one (still inside the idle window, since touchAfter is
    // under half of it).
    if (!changes.changed && !maxAgeChanged && !state.forceTouch && !this.settings.resave && !state.touchDue) {
      // Nothing to write (a read-only request inside touchAfter): no allocation unless a cookie line is owed.
      return this.existing(state, NOTHING, null, false);
    }
    const now = this.settings.now();
    const idleExpiresAt = slideIdleExpiry({ absoluteExpiresAt: record.absoluteExpiresAt, cookieMaxAge: state.cookieMaxAge }, now, this.settings.policy);
    const slid: SessionRecord = { ...record, idleExpiresAt, touchedAt: now, cookieMaxAge: state.cookieMaxAge, version: record.version + 1 };
    const outcome = { ticket: state.ticket, key, record: slid, snapshot: current };
    let call: StoreCall;
    if (changes.changed || maxAgeChanged) {
      call = this.settings.wholeRecords
        ? { op: "write", key, record: { ...slid, data: currentData(current) } }
        : { op: "patch", key, patch: { set: changes.set, unset: changes.unset, idleExpiresAt, touchedAt: now, ...(maxAgeChanged ? { cookieMaxAge: state.cookieMaxAge } : {}) } };
    } else if (this.settings.wholeRecords) {
      // express-session's resave: true writes the whole session back; its touch() is for unmodified sessions.
      call = { op: this.settings.resave ? "write" : "touchRecord", key, record: slid };
    } else {
      call = { op: "touch", key, idleExpiresAt, touchedAt: now };
    }
    return this.existing(state, call, outcome, true, now);
  }

  /** The caller sent `plan`'s cookie before committing: the commit must keep its ticket. */
  issue(state: SessionState, plan: Plan): void {
    if (plan.call.op === "create" && plan.setCookie !== null) state.issuedTicket = plan.outcome!.ticket;
  }

  /** A plan that issues a ticket: a new session, or a rotation of the one at `replaces` (data kept, times fresh). */
  private fresh(state: SessionState, current: Snapshot, now: number, replaces: string | null): Plan {
    const ticket = state.issuedTicket ?? this.newTicket(state);
    const key = this.settings.keyOf(ticket);
    const record = this.newRecord(currentData(current), state, now);
    const { line, error } = this.line(state, ticket, persistentMaxAge(state.cookieMaxAge, record.absoluteExpiresAt, now), now);
    return {
      call: { op: "create", key, record, replaces },
      setCookie: line,
      cookieError: error,
      outcome: { ticket, key, record, snapshot: current },
      event: replaces === null ? "created" : "rotated",
    };
  }

  /** A plan for a stored session keeping its ticket. `slid`: the idle window moves with this commit. */
  private existing(state: SessionState, call: StoreCall, outcome: PlanOutcome | null, slid: boolean, at?: number): Plan {
    const record = state.record!;
    const persistent = state.cookieMaxAge !== null;
    let line: string | null = null;
    let error: Error | null = null;
    if (state.needsResign || this.settings.rolling || (slid && persistent) || state.cookieMaxAge !== record.cookieMaxAge) {
      const now = at ?? this.settings.now();
      ({ line, error } = this.line(state, state.ticket!, persistentMaxAge(state.cookieMaxAge, record.absoluteExpiresAt, now), now));
    }
    return this.plainOr(call, line ?? state.owedCookie, error, outcome);
  }

  private plainOr(call: StoreCall, setCookie: string | null, cookieError: Error | null, outcome: PlanOutcome | null): Plan {
    if (outcome === null && cookieError === null) return this.plain(call, setCookie);
    return { call, setCookie, cookieError, outcome, event: null };
  }

  private plain(call: StoreCall, setCookie: string | null): Plan {
    return setCookie === null && call === NOTHING ? NOTHING_PLAN : { call, setCookie, cookieError: null, outcome: null, event: null };
  }

  /** The line that deletes the cookie, when destroy() or regenerate() took the client's session away. */
  private clearing(state: SessionState): string | null {
    return state.clearCookie && state.cookieAllowed ? serializeClearingCookie(state.cookie) : null;
  }

  private line(state: SessionState, ticket: string, maxAgeMs: number | null, now: number): { line: string | null; error: Error | null } {
    // An invalid Date given as cookie.expires fails here, as express-session's does when it writes the cookie.
    if (state.cookieExpiresAt !== null && Number.isNaN(state.cookieExpiresAt)) maxAgeMs = NaN;
    try {
      return { line: serializeSessionCookie(state.cookie, this.settings.signer.sign(ticket), { maxAgeMs, now }), error: null };
    } catch (error) {
      return { line: null, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private newTicket(state: SessionState): string {
    const genid = this.settings.genid;
    return genid ? checkGeneratedTicket(genid(state.request)) : generateTicket(this.settings.randomBytes);
  }

  /** The record a new or rotated session starts with. */
  newRecord(data: Record<string, unknown>, state: SessionState, now: number): SessionRecord {
    const absoluteExpiresAt = now + this.settings.policy.absoluteTimeout;
    const identity = data[this.settings.identityKey];
    this.settings.resolveClient(state);
    const meta: SessionRecord["meta"] = {};
    if (state.ip !== undefined) meta.ip = state.ip;
    if (state.userAgent !== undefined) meta.userAgent = state.userAgent;
    return {
      userId: identity === undefined || identity === null ? null : String(identity),
      data,
      createdAt: now,
      touchedAt: now,
      idleExpiresAt: slideIdleExpiry({ absoluteExpiresAt, cookieMaxAge: state.cookieMaxAge }, now, this.settings.policy),
      absoluteExpiresAt,
      cookieMaxAge: state.cookieMaxAge,
      version: 0,
      meta,
    };
  }
}

/** When a persistent cookie of `record` expires (for `req.session.cookie.expires` after a load or a write). */
export function cookieExpiryOf(record: SessionRecord): number | null {
  return record.cookieMaxAge === null ? null : expiresAtOf(record);
}

/** Make an executed plan's outcome the session's state: the stored ticket, key, record and baseline. */
export function applyOutcome(state: SessionState, decided: Plan): NonNullable<Plan["outcome"]> {
  const outcome = decided.outcome!;
  state.ticket = outcome.ticket;
  state.key = outcome.key;
  state.record = outcome.record;
  state.snapshot = outcome.snapshot;
  state.cookieExpiresAt = cookieExpiryOf(outcome.record);
  state.touchDue = false;
  state.issuedTicket = null;
  state.forceRotate = false;
  state.forceTouch = false;
  state.identityAssigned = false;
  state.clearCookie = false;
  // A line made by an explicit save() or rotate() still has to reach this request's response.
  state.owedCookie = decided.setCookie;
  return outcome;
}
