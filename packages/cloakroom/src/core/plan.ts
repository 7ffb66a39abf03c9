/**
 * What a request's commit will do (the plan), and the Set-Cookie line and new record that go with it. Pure decisions
 * over the session's state: the SessionManager does the I/O.
 */
import { serializeClearingCookie, serializeSessionCookie } from "./cookie.js";
import { checkGeneratedTicket, clientOf, persistentMaxAge } from "./manager-helpers.js";
import type { Signer } from "./signing.js";
import { diffData, type DataChanges, type SessionState } from "./state.js";
import { generateTicket, type RandomBytes } from "./ticket.js";
import { shouldTouch, slideIdleExpiry, type TimeoutPolicy } from "./timeouts.js";
import type { SessionRecord } from "./types.js";

/** What commit() will do, decided once per request (see docs/architecture.md, "Commit"). */
export type Plan = (
  | { kind: "none" }
  | { kind: "create" | "rotate"; ticket: string; key: string }
  | { kind: "patch" }
  | { kind: "touch" }
) & {
  /** The data changes the plan was decided on, reusable by commit() when the request's data can no longer change. */
  changes: DataChanges;
  final: boolean;
};

/** The manager's settings the decisions depend on. */
export interface PlannerSettings {
  policy: TimeoutPolicy;
  identityKey: string;
  signer: Signer;
  now: () => number;
  randomBytes: RandomBytes | undefined;
  keyOf: (ticket: string) => string;
  saveUninitialized: boolean;
  rolling: boolean;
  resave: boolean;
}

/** Decides plans for one SessionManager (see docs/architecture.md, "Commit"). */
export class Planner {
  constructor(private readonly settings: PlannerSettings) {}

  plan(session: object, state: SessionState, final: boolean): Plan {
    const existing = state.plan;
    if (existing) {
      // Keep the decision (and any ticket it issued: its cookie may be out already); refresh what changed.
      if (final && !existing.final) Object.assign(existing, { changes: diffData(session, state.snapshot), final: true });
      return existing;
    }
    const changes = diffData(session, state.snapshot);
    const plan = this.decide(state, changes) as Plan;
    plan.changes = changes;
    plan.final = final;
    state.plan = plan;
    // A line decided earlier in this request (e.g. by an explicit save()) stays unless a newer decision replaces it.
    state.setCookie = this.cookieLine(plan, state) ?? state.setCookie;
    return plan;
  }

  private decide(state: SessionState, changes: DataChanges): DecidedPlan {
    if (state.destroyed || !state.cookie) return { kind: "none" };
    const now = this.settings.now();
    const record = state.record;
    if (!record) {
      if (!changes.changed && !this.settings.saveUninitialized) return { kind: "none" };
      return this.freshTicket("create", state);
    }
    if (state.forceRotate || state.identityAssigned || changes.serialized.get(this.settings.identityKey) !== state.snapshot.get(this.settings.identityKey)) {
      return this.freshTicket("rotate", state);
    }
    if (state.cookieMaxAge !== record.cookieMaxAge || changes.changed) return { kind: "patch" };
    if (state.forceTouch || this.settings.resave || shouldTouch(record, now, this.settings.policy)) return { kind: "touch" };
    return { kind: "none" };
  }

  private freshTicket(kind: "create" | "rotate", state: SessionState): DecidedPlan {
    const ticket = state.generateTicket ? checkGeneratedTicket(state.generateTicket()) : generateTicket(this.settings.randomBytes);
    return { kind, ticket, key: this.settings.keyOf(ticket) };
  }

  private cookieLine(plan: DecidedPlan, state: SessionState): string | null {
    if (!state.cookie) return null;
    if (state.destroyed) return state.setCookie;
    const now = this.settings.now();
    if (plan.kind === "create" || plan.kind === "rotate") {
      const absoluteExpiresAt = now + this.settings.policy.absoluteTimeout;
      return serializeSessionCookie(state.cookie, this.settings.signer.sign(plan.ticket), { maxAgeMs: persistentMaxAge(state.cookieMaxAge, absoluteExpiresAt, now), now });
    }
    if (!state.ticket || !state.record) {
      // No stored session and nothing new to store: clear the cookie only if this request regenerated it away.
      return state.clearCookie ? serializeClearingCookie(state.cookie) : null;
    }
    const slid = plan.kind === "patch" || plan.kind === "touch";
    const persistent = state.cookieMaxAge !== null;
    if (state.needsResign || this.settings.rolling || (slid && persistent) || state.cookieMaxAge !== state.record.cookieMaxAge) {
      return serializeSessionCookie(state.cookie, this.settings.signer.sign(state.ticket), {
        maxAgeMs: persistentMaxAge(state.cookieMaxAge, state.record.absoluteExpiresAt, now),
        now,
      });
    }
    return null;
  }

  newRecord(data: Record<string, unknown>, state: SessionState, now: number): SessionRecord {
    const absoluteExpiresAt = now + this.settings.policy.absoluteTimeout;
    const identity = data[this.settings.identityKey];
    const client = clientOf(state);
    const meta: SessionRecord["meta"] = {};
    if (client.ip !== undefined) meta.ip = client.ip;
    if (client.userAgent !== undefined) meta.userAgent = client.userAgent;
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

  owesWrite(state: SessionState, plan: Plan): boolean {
    if (plan.kind !== "none") return true;
    // A "none" decided before the data changed (headers sent early) still owes a patch.
    return state.record !== null && !state.destroyed && (plan.changes.changed || state.cookieMaxAge !== state.record.cookieMaxAge);
  }
}

type DecidedPlan = Plan extends infer P ? (P extends Plan ? Omit<P, "changes" | "final"> : never) : never;
