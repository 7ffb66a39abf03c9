/**
 * Password reset by mail (OWASP Forgot Password CS; ASVS 5.0 V6.4): a request answers at once and alike for every
 * address, the link carries a single-use 256-bit token that lives PASSWORD_RESET_TTL, and using it sets the new
 * password (policy applies), ends every session of the account and sends a "your password was changed" mail. It does
 * not sign anyone in: the user logs in with the new password, through the login throttle like everyone else.
 */
import { normalizeEmail } from "cloakroom/auth";
import { hashNewPassword, type Refusal } from "../accounts.js";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { passwordChangedMail, passwordResetMail } from "../mail/messages.js";
import { createEmailToken, EMAIL_TOKEN_PATTERN, hashEmailToken } from "../users/tokens.js";
import type { UserRecord } from "../users/types.js";
import { allowAccountMail } from "./mail-limits.js";

/** What every forgot-password request is told, whatever the address (and whether a mail went out). */
export const RESET_REQUESTED_MESSAGE = "If an account exists for that address, we have sent it a link to choose a new password. Check your inbox.";

/**
 * Ask for a reset link. Returns before anything is looked up: the lookup, the limits, the token and the mail run in
 * the background, so a known and an unknown address answer in the same time (and a slow SMTP server delays no one).
 */
export function requestPasswordReset(ctx: RouteContext, input: { email: string; ip: string }): void {
  ctx.background.run("password_reset_request", () => sendResetLink(ctx, input));
}

async function sendResetLink(ctx: RouteContext, input: { email: string; ip: string }): Promise<void> {
  if (!(await allowAccountMail(ctx.mailLimits, input))) {
    ctx.metrics.throttled.inc({ scope: "mail" });
    logAuthEvent(ctx.logger, "password_reset.throttled", { ip: input.ip });
    return;
  }
  const email = normalizeEmail(input.email);
  const user = email === null ? null : await ctx.users.findUserByEmail(email);
  if (!user || user.disabled) {
    logAuthEvent(ctx.logger, "password_reset.requested", { ip: input.ip, reason: user ? "disabled" : "unknown_account" });
    return;
  }
  const { token, tokenHash } = createEmailToken();
  const now = ctx.now();
  await ctx.tokens.replaceToken({ userId: user.id, purpose: "password_reset", tokenHash, expiresAt: now + ctx.config.passwordResetTtl, now });
  await ctx.mailer.send(passwordResetMail({ to: user.email, publicUrl: ctx.config.publicUrl, token, ttl: ctx.config.passwordResetTtl }));
  logAuthEvent(ctx.logger, "password_reset.requested", { userId: user.id, ip: input.ip });
}

/**
 * The account a reset link belongs to while it is live and the account usable, without using the link up: the page
 * behind the link asks for the new password first (and mail scanners that fetch links must not burn them).
 */
export async function findResetAccount(ctx: RouteContext, token: string): Promise<UserRecord | null> {
  if (!EMAIL_TOKEN_PATTERN.test(token)) return null;
  const userId = await ctx.tokens.findToken(hashEmailToken(token), "password_reset", ctx.now());
  const user = userId === null ? null : await ctx.users.findUserById(userId);
  return user && !user.disabled ? user : null;
}

/** The outcome of {@link resetPassword}; `weak_password` leaves the link usable for another try. */
export type ResetOutcome = { ok: true; user: UserRecord } | { ok: false; code: "invalid_or_expired_token" } | Refusal;

/**
 * Use a reset link: check the new password, use the token up (atomically: of two concurrent uses one wins), end every
 * session of the account, then save the hash. The address counts as verified (the mail was read), the login
 * throttle's counters of the account are cleared (the owner is back in control), and the owner is told by mail.
 */
export async function resetPassword(ctx: RouteContext, input: { token: string; password: string; ip: string }): Promise<ResetOutcome> {
  const invalid = { ok: false, code: "invalid_or_expired_token" } as const;
  const user = await findResetAccount(ctx, input.token);
  if (!user) return invalid;
  const hashed = await hashNewPassword(ctx, { email: user.email, password: input.password });
  if (!hashed.ok) return hashed;
  if ((await ctx.tokens.consumeToken(hashEmailToken(input.token), "password_reset", ctx.now())) !== user.id) return invalid;
  // Revoke before saving, as for a password change: a crash in between leaves the old password, never a live session
  // of whoever knew it next to the new one.
  const revoked = await ctx.manager.revokeUserSessions(user.id);
  await ctx.users.updatePasswordHash(user.id, hashed.hash);
  await ctx.users.markEmailVerified(user.id);
  await ctx.throttle.resetAccount(user.email);
  ctx.metrics.revocations.inc({ reason: "password_reset" }, revoked);
  logAuthEvent(ctx.logger, "password.reset", { userId: user.id, ip: input.ip, count: revoked });
  notifyPasswordChanged(ctx, user, "reset");
  return { ok: true, user };
}

/** Tell the owner their password changed (after a reset or a change), in the background. */
export function notifyPasswordChanged(ctx: RouteContext, user: UserRecord, via: "reset" | "change"): void {
  ctx.background.run("password_changed_mail", () => ctx.mailer.send(passwordChangedMail({ to: user.email, publicUrl: ctx.config.publicUrl, via })));
}
