/**
 * The session side of authentication: log in (throttle → verify → rotate), log out, revoke. Shared by the seed
 * routes, the HTML pages and the JSON API so the three behave identically.
 */
import { createCsrfToken, normalizeEmail } from "cloakroom/auth";
import type { Request, Response } from "express";
import { authenticateUser, changeUserPassword, registerUser, verifyAccountPassword, type Refusal } from "./accounts.js";
import type { RouteContext } from "./context.js";
import { setClearSiteData } from "./http.js";
import { logAuthEvent } from "./logger.js";
import { needsVerification, notifyRegistrationAttempt, sendVerificationLink } from "./recovery/email-verification.js";
import { notifyPasswordChanged } from "./recovery/password-reset.js";
import type { SignInMethod } from "./session-data.js";
import type { UserRecord } from "./users/types.js";
import type { SessionSummary } from "./views/account-pages.js";

/** The result of {@link performLogin}. Failures carry everything a response needs and nothing more. */
export type LoginOutcome =
  | { ok: true; user: UserRecord }
  | { ok: false; status: 401; error: "invalid_credentials" }
  | { ok: false; status: 403; error: "email_not_verified" }
  | { ok: false; status: 429; error: "too_many_attempts"; retryAfterSeconds: number };

/** The throttle's account key: the normalized email, or the raw text for input that is not an email at all. */
function throttleAccount(email: string): string {
  return normalizeEmail(email) ?? email.trim().toLowerCase();
}

/**
 * Log a user in on this request's session: brute-force limits first, then the password, then a rotated ticket with
 * a fresh CSRF token. Unknown email, wrong password and disabled account produce the same outcome. With
 * EMAIL_VERIFICATION=required, the right password of an unconfirmed account gets `email_not_verified` and a new link
 * (only someone who knows the password learns that the account exists).
 */
export async function performLogin(
  ctx: RouteContext,
  req: Request,
  input: { email: string; password: string; remember: boolean },
): Promise<LoginOutcome> {
  const throttleKey = { ip: req.ip ?? "unknown", account: throttleAccount(input.email) };
  const gate = await ctx.throttle.check(throttleKey);
  if (!gate.allowed) {
    ctx.metrics.throttled.inc({ scope: "login" });
    logAuthEvent(ctx.logger, "login.throttled", { ip: req.ip });
    return { ok: false, status: 429, error: "too_many_attempts", retryAfterSeconds: gate.retryAfterSeconds };
  }
  const result = await authenticateUser(ctx, input);
  if (!result.ok) {
    await ctx.throttle.recordFailure(throttleKey);
    ctx.metrics.logins.inc({ result: "failure" });
    logAuthEvent(ctx.logger, "login.failure", { ip: req.ip, reason: result.reason });
    return { ok: false, status: 401, error: "invalid_credentials" };
  }
  await ctx.throttle.recordSuccess(throttleKey);
  if (needsVerification(ctx, result.user)) {
    ctx.metrics.logins.inc({ result: "unverified" });
    logAuthEvent(ctx.logger, "login.failure", { userId: result.user.id, ip: req.ip, reason: "email_not_verified" });
    sendVerificationLink(ctx, result.user, req.ip ?? "unknown");
    return { ok: false, status: 403, error: "email_not_verified" };
  }
  await establishSession(ctx, req, result.user, { remember: input.remember, method: "password" });
  ctx.metrics.logins.inc({ result: "success" });
  logAuthEvent(ctx.logger, "login.success", { userId: result.user.id, ip: req.ip, sessionKey: req.session.details?.key, method: "password" });
  return { ok: true, user: result.user };
}

/** The result of {@link performRegistration}. */
export type RegistrationOutcome = { kind: "signed_in"; user: UserRecord } | { kind: "check_inbox" } | { kind: "refused"; refusal: Refusal };

/**
 * Register an account. With EMAIL_VERIFICATION=off the new account is signed in at once and a taken address is
 * refused (`email_taken`). With `required`, a new and a taken address both get `check_inbox`: the new account is
 * mailed a verification link, the owner of the taken address a note that someone tried.
 */
export async function performRegistration(ctx: RouteContext, req: Request, input: { email: string; password: string }): Promise<RegistrationOutcome> {
  const ip = req.ip ?? "unknown";
  const verify = ctx.config.emailVerification === "required";
  const result = await registerUser(ctx, input);
  if (!result.ok) {
    ctx.metrics.registrations.inc({ result: "rejected" });
    logAuthEvent(ctx.logger, "register.rejected", { ip, reason: result.reason ?? result.code });
    if (verify && result.code === "email_taken" && result.email) {
      notifyRegistrationAttempt(ctx, result.email, ip);
      return { kind: "check_inbox" };
    }
    return { kind: "refused", refusal: result };
  }
  ctx.metrics.registrations.inc({ result: "created" });
  if (verify) {
    logAuthEvent(ctx.logger, "register.success", { userId: result.user.id, ip, reason: "verification_sent" });
    sendVerificationLink(ctx, result.user, ip);
    return { kind: "check_inbox" };
  }
  await establishSession(ctx, req, result.user, { remember: false, method: "password" });
  logAuthEvent(ctx.logger, "register.success", { userId: result.user.id, ip, sessionKey: req.session.details?.key });
  return { kind: "signed_in", user: result.user };
}

/**
 * Bind the session to a user with a new ticket (ASVS V3.2.1: new token at login and at re-authentication; the
 * pre-login record is destroyed), a new CSRF token (CSRF CS "login CSRF": the token rotates at login), the cookie
 * lifetime the user chose, and how they signed in (the devices page shows it). Password and passkey logins both
 * end here, so they make the same session.
 */
export async function establishSession(ctx: RouteContext, req: Request, user: UserRecord, options: { remember: boolean; method: SignInMethod }): Promise<void> {
  const session = req.session;
  session.cookie.maxAge = options.remember ? ctx.config.rememberTimeout : null;
  session.userId = user.id;
  session.csrf = createCsrfToken();
  session.authAt = ctx.now();
  session.authMethod = options.method;
  // Commit now (not at the end of the request) so the new store key is known for the log line. A stored session
  // (the login form's pre-session, or a re-login) gets a new ticket; a fresh one is created.
  if (session.details) await session.rotate();
  else await session.save();
}

/** End this request's session: record deleted, cookie cleared (Max-Age=0), browser told to drop site data. */
export async function performLogout(ctx: RouteContext, req: Request, res: Response): Promise<void> {
  const userId = req.session.userId;
  const sessionKey = req.session.details?.key;
  await req.session.destroy();
  setClearSiteData(res);
  if (userId) {
    ctx.metrics.revocations.inc({ reason: "logout" });
    logAuthEvent(ctx.logger, "logout", { userId, ip: req.ip, sessionKey });
  }
}

/** Whether the user typed their password in this session within the re-authentication window. */
export function isRecentlyAuthenticated(ctx: RouteContext, req: Request): boolean {
  const authAt = req.session.authAt;
  return typeof authAt === "number" && ctx.now() - authAt <= ctx.config.reauthWindow;
}

/** Revoke every session of the user except this request's. @returns how many the store reported */
export async function revokeOtherSessions(ctx: RouteContext, req: Request, userId: string, reason: string): Promise<number> {
  const current = req.session.details?.key;
  const count = await ctx.manager.revokeUserSessions(userId, current ? { except: current } : undefined);
  ctx.metrics.revocations.inc({ reason }, count);
  logAuthEvent(ctx.logger, "sessions.revoked_others", { userId, ip: req.ip, sessionKey: current, count, reason });
  return count;
}

/**
 * Revoke one of the user's sessions by store key. Revoking the current one is a logout.
 * @returns `"current"` when it was this request's session, `true`/`false` whether another one existed
 */
export async function revokeOneSession(ctx: RouteContext, req: Request, res: Response, key: string): Promise<"current" | boolean> {
  const userId = req.session.userId as string;
  if (key === req.session.details?.key) {
    await performLogout(ctx, req, res);
    return "current";
  }
  const revoked = await ctx.manager.revokeSession(userId, key);
  if (revoked) {
    ctx.metrics.revocations.inc({ reason: "revoke_one" });
    logAuthEvent(ctx.logger, "session.revoked", { userId, ip: req.ip, sessionKey: key });
  }
  return revoked;
}

/**
 * Re-authentication: verify the signed-in user's password (throttled like a login), then rotate the ticket and
 * restart the re-authentication window (ASVS 5.0 V7.2.4: new token at re-authentication).
 */
export async function confirmPassword(ctx: RouteContext, req: Request, password: string): Promise<"ok" | "invalid" | "throttled"> {
  const userId = req.session.userId as string;
  const user = await ctx.users.findUserById(userId);
  if (!user) return "invalid";
  const key = { ip: req.ip ?? "unknown", account: user.email };
  const gate = await ctx.throttle.check(key);
  if (!gate.allowed) {
    ctx.metrics.throttled.inc({ scope: "reauth" });
    logAuthEvent(ctx.logger, "login.throttled", { userId, ip: req.ip, reason: "reauth" });
    return "throttled";
  }
  if (!(await verifyAccountPassword(ctx, user, password))) {
    await ctx.throttle.recordFailure(key);
    logAuthEvent(ctx.logger, "reauth.failure", { userId, ip: req.ip });
    return "invalid";
  }
  await ctx.throttle.recordSuccess(key);
  req.session.authAt = ctx.now();
  await req.session.rotate();
  logAuthEvent(ctx.logger, "reauth.success", { userId, ip: req.ip, sessionKey: req.session.details?.key });
  return "ok";
}

/**
 * A password change: every other session of the user ends (ASVS 5.0 V7.4.3) before the new hash is saved; then this
 * session gets a new ticket and CSRF token and counts as freshly authenticated. Reset links still in a mailbox stop
 * working, and the owner is told by mail.
 * @returns the refusal when the current password is wrong or the new one breaks the policy
 */
export async function performPasswordChange(
  ctx: RouteContext,
  req: Request,
  input: { user: UserRecord; currentPassword: string; newPassword: string },
): ReturnType<typeof changeUserPassword> {
  const result = await changeUserPassword(ctx, { ...input, beforeSave: () => revokeOtherSessions(ctx, req, input.user.id, "password_change") });
  if (result.ok) await finishPasswordChange(ctx, req, input.user);
  return result;
}

async function finishPasswordChange(ctx: RouteContext, req: Request, user: UserRecord): Promise<void> {
  await ctx.tokens.deleteUserTokens(user.id, "password_reset");
  req.session.csrf = createCsrfToken();
  req.session.authAt = ctx.now();
  await req.session.rotate();
  logAuthEvent(ctx.logger, "password.changed", { userId: user.id, ip: req.ip, sessionKey: req.session.details?.key });
  notifyPasswordChanged(ctx, user, "change");
}

/** The current session as the views show it. */
export function summarizeCurrentSession(req: Request): SessionSummary | null {
  const d = req.session.details;
  if (!d) return null;
  return {
    method: signInMethodOf(req.session.authMethod),
    key: d.key,
    createdAt: d.createdAt,
    touchedAt: d.touchedAt,
    expiresAt: d.expiresAt,
    absoluteExpiresAt: d.absoluteExpiresAt,
    persistent: d.persistent,
    ip: d.ip,
    userAgent: d.userAgent,
  };
}

/**
 * The user's live sessions with how each signed in. The manager's summaries carry no session data, so the method is
 * read from the store's records of the same sessions (one more indexed read, on the devices page only).
 * @throws {TypeError} when the store cannot list by user (Memcached): check `store.capabilities.listByUser` first
 */
export async function listUserSessionsWithMethod(ctx: RouteContext, userId: string): Promise<SessionSummary[]> {
  const [summaries, stored] = await Promise.all([ctx.manager.listUserSessions(userId), ctx.store.listByUser(userId)]);
  const methods = new Map(stored.map((s) => [s.key, s.record.data.authMethod]));
  return summaries.map((s) => ({ ...s, method: signInMethodOf(methods.get(s.key)) }));
}

/** A session's recorded method; sessions from before passkeys existed record none, and they all used a password. */
function signInMethodOf(value: unknown): SignInMethod {
  return value === "passkey" ? "passkey" : "password";
}
