/**
 * The mails the server sends, as plain text. Links are built from PUBLIC_URL; a token appears only in the link of
 * the mail it was made for.
 */
import { describeDuration } from "../duration.js";
import type { MailMessage } from "./mailer.js";

/** "Reset your password": the single-use link, and how long it lives. */
export function passwordResetMail(input: { to: string; publicUrl: string; token: string; ttl: number }): MailMessage {
  const link = `${input.publicUrl}/reset-password?token=${encodeURIComponent(input.token)}`;
  return {
    kind: "password_reset",
    to: input.to,
    subject: "Reset your Cloakroom password",
    text: `Someone (hopefully you) asked to reset the password of this Cloakroom account.

Choose a new password here:
${link}

The link works once, for ${describeDuration(input.ttl)}. Asking again makes this one stop working.
If you did not ask, ignore this mail: your password stays as it is.
`,
  };
}

/** "Your password was changed": sent after a reset and after a change, so an owner notices a takeover. */
export function passwordChangedMail(input: { to: string; publicUrl: string; via: "reset" | "change" }): MailMessage {
  const how = input.via === "reset" ? "with a password reset link" : "from a signed-in session";
  return {
    kind: "password_changed",
    to: input.to,
    subject: "Your Cloakroom password was changed",
    text: `The password of your Cloakroom account was just changed ${how}. ${input.via === "reset" ? "Every session was logged out" : "Your other sessions were logged out"}.

If this was not you, reset your password now and check your devices:
${input.publicUrl}/forgot-password
`,
  };
}

/** "Confirm your email address": the link that lets a new account sign in (EMAIL_VERIFICATION=required). */
export function verifyEmailMail(input: { to: string; publicUrl: string; token: string; ttl: number }): MailMessage {
  const link = `${input.publicUrl}/verify-email?token=${encodeURIComponent(input.token)}`;
  return {
    kind: "verify_email",
    to: input.to,
    subject: "Confirm your email address for Cloakroom",
    text: `Confirm that this address belongs to your new Cloakroom account:
${link}

The link works once, for ${describeDuration(input.ttl)}. If you did not create an account, ignore this mail.
`,
  };
}

/** "Someone tried to register with your address": what the owner of a taken address gets instead of a 409. */
export function registrationAttemptMail(input: { to: string; publicUrl: string }): MailMessage {
  return {
    kind: "registration_attempt",
    to: input.to,
    subject: "Someone tried to create a Cloakroom account with your address",
    text: `Someone just tried to create a Cloakroom account with this address, which already has one. No new account was made.

If it was you, log in: ${input.publicUrl}/login
Forgot the password? ${input.publicUrl}/forgot-password
If it was not you, you need not do anything.
`,
  };
}
