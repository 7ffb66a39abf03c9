/**
 * EMAIL_VERIFICATION=required: an account signs in only once its owner followed the link mailed to the address, and
 * registration no longer tells anyone whether an address has an account (OWASP Authentication CS "Authentication
 * Responses"): new and taken addresses get the same answer, and the owner of a taken one is told by mail instead.
 */
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { registrationAttemptMail, verifyEmailMail } from "../mail/messages.js";
import { createEmailToken, EMAIL_TOKEN_PATTERN, hashEmailToken } from "../users/tokens.js";
import type { UserRecord } from "../users/types.js";
import { allowAccountMail } from "./mail-limits.js";

/** How long a verification link works. */
export const VERIFICATION_TTL = 24 * 3_600_000;

/** What registration answers with verification on, for a new and a taken address alike. */
export const CHECK_INBOX_MESSAGE = "Check your inbox: we have sent a link to confirm the address. Follow it, then log in.";

/** Whether this account must confirm its address before it may sign in (and before its sessions count). */
export function needsVerification(ctx: RouteContext, user: UserRecord): boolean {
  return ctx.config.emailVerification === "required" && user.emailVerifiedAt === null;
}

/** Mail a new verification link (the previous one stops working), in the background and within the mail limits. */
export function sendVerificationLink(ctx: RouteContext, user: UserRecord, ip: string): void {
  ctx.background.run("verification_mail", async () => {
    if (!(await allowAccountMail(ctx.mailLimits, { email: user.email, ip }))) {
      ctx.metrics.throttled.inc({ scope: "mail" });
      logAuthEvent(ctx.logger, "email.verification_throttled", { userId: user.id, ip });
      return;
    }
    const { token, tokenHash } = createEmailToken();
    const now = ctx.now();
    await ctx.tokens.replaceToken({ userId: user.id, purpose: "verify_email", tokenHash, expiresAt: now + VERIFICATION_TTL, now });
    await ctx.mailer.send(verifyEmailMail({ to: user.email, publicUrl: ctx.config.publicUrl, token, ttl: VERIFICATION_TTL }));
    logAuthEvent(ctx.logger, "email.verification_sent", { userId: user.id, ip });
  });
}

/** Tell the owner of a taken address that someone tried to register with it (instead of answering 409). */
export function notifyRegistrationAttempt(ctx: RouteContext, email: string, ip: string): void {
  ctx.background.run("registration_attempt_mail", async () => {
    if (!(await allowAccountMail(ctx.mailLimits, { email, ip }))) {
      ctx.metrics.throttled.inc({ scope: "mail" });
      return;
    }
    const owner = await ctx.users.findUserByEmail(email);
    if (!owner || owner.disabled) return;
    await ctx.mailer.send(registrationAttemptMail({ to: owner.email, publicUrl: ctx.config.publicUrl }));
    logAuthEvent(ctx.logger, "register.attempt_notified", { userId: owner.id, ip });
  });
}

/**
 * Follow a verification link: the token is used up and the account marked verified. It does not sign in.
 * @returns the account, or `null` for an unknown, used or expired link
 */
export async function confirmEmail(ctx: RouteContext, token: string, ip: string): Promise<UserRecord | null> {
  if (!EMAIL_TOKEN_PATTERN.test(token)) return null;
  const userId = await ctx.tokens.consumeToken(hashEmailToken(token), "verify_email", ctx.now());
  if (userId === null || !(await ctx.users.markEmailVerified(userId))) return null;
  logAuthEvent(ctx.logger, "email.verified", { userId, ip });
  return ctx.users.findUserById(userId);
}
