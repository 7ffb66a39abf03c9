/**
 * Removing a passkey or the password, and the rule that an account always keeps one way to sign in. An account with
 * a passkey may drop its password (passkeys only: nothing to phish, nothing to reuse); a reset link by mail sets a
 * password again, which is also the way back for someone who lost every passkey.
 */
import type { Request } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import type { UserRecord } from "../users/types.js";

/** The outcome of {@link removePasskey}. */
export type PasskeyRemoval = "removed" | "not_found" | "last_sign_in_method";

/**
 * Remove one of the user's passkeys, unless it is the account's last way to sign in (no password and no other
 * passkey): an account nobody can sign in to could only be recovered by mail, so the removal is refused instead.
 */
export async function removePasskey(ctx: RouteContext, req: Request, user: UserRecord, id: string): Promise<PasskeyRemoval> {
  const passkeys = await ctx.passkeys.listUserPasskeys(user.id);
  if (!passkeys.some((p) => p.id === id)) return "not_found";
  if (passkeys.length === 1 && !hasPassword(user)) return "last_sign_in_method";
  if (!(await ctx.passkeys.deletePasskey(user.id, id))) return "not_found";
  logAuthEvent(ctx.logger, "passkey.removed", { userId: user.id, ip: req.ip, sessionKey: req.session.details?.key });
  return "removed";
}

/** Whether the account can sign in with a password. */
export function hasPassword(user: UserRecord): boolean {
  return user.passwordHash !== null;
}

/** The outcome of {@link removePassword}. */
export type PasswordRemoval = "removed" | "no_password" | "last_sign_in_method";

/** Stop using a password: allowed once the account has a passkey. Sessions stay; reset links still set a new one. */
export async function removePassword(ctx: RouteContext, req: Request, user: UserRecord): Promise<PasswordRemoval> {
  if (!hasPassword(user)) return "no_password";
  if ((await ctx.passkeys.listUserPasskeys(user.id)).length === 0) return "last_sign_in_method";
  await ctx.users.updatePasswordHash(user.id, null);
  logAuthEvent(ctx.logger, "password.removed", { userId: user.id, ip: req.ip, sessionKey: req.session.details?.key });
  return "removed";
}
