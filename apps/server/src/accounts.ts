/**
 * Account flows on top of cloakroom/auth: register, authenticate (with the dummy hash for unknown emails and the
 * bcrypt → argon2id upgrade), change password. Pure of HTTP: routes turn the results into responses.
 */
import * as auth from "cloakroom/auth";
import type { Logger } from "pino";
import { logAuthEvent } from "./logger.js";
import type { UserRecord, UserRepository } from "./users/types.js";

/** The password functions the flows use; cloakroom/auth's by default, injectable for tests. */
export interface PasswordHasher {
  hashPassword(password: string): Promise<string>;
  verifyPassword(hash: string, password: string): Promise<boolean>;
  needsRehash(hash: string): boolean;
  dummyVerify(password: string): Promise<false>;
}

/** cloakroom/auth's argon2id hasher at its defaults (OWASP parameters). */
export const defaultPasswordHasher: PasswordHasher = {
  hashPassword: (password) => auth.hashPassword(password),
  verifyPassword: (hash, password) => auth.verifyPassword(hash, password),
  needsRehash: (hash) => auth.needsRehash(hash),
  dummyVerify: (password) => auth.dummyVerify(password),
};

/** What the flows need. */
export interface AccountDeps {
  users: UserRepository;
  passwords: PasswordHasher;
  logger: Logger;
}

/** Why a registration or password change was refused; `code` is the API's `error`. */
export interface Refusal {
  ok: false;
  code: "invalid_email" | "email_taken" | "weak_password" | "wrong_password";
  message: string;
  /** The policy's own code for a weak password (e.g. too short), for the API's `reason`. */
  reason?: string;
  /** The normalized address, on `email_taken`. */
  email?: string;
}

/**
 * Check a new password against the NIST/ASVS policy for this account (before any hashing, so a 1 MB password costs
 * nothing) and hash it. Registration, password change and password reset all go through here.
 */
export async function hashNewPassword(deps: Pick<AccountDeps, "passwords">, input: { email: string; password: string }): Promise<{ ok: true; hash: string } | Refusal> {
  const policy = auth.checkPasswordPolicy(input.password, { email: input.email });
  if (!policy.ok) return { ok: false, code: "weak_password", message: policy.message, reason: policy.code };
  return { ok: true, hash: await deps.passwords.hashPassword(policy.password) };
}

/**
 * Create an account. The email is normalized exactly as at login. The password is hashed before the address is
 * looked up, so a taken address costs the same time as a free one (with EMAIL_VERIFICATION=required both answer
 * alike). A refusal for a taken address carries `email` so the caller can tell its owner.
 */
export async function registerUser(deps: AccountDeps, input: { email: string; password: string }): Promise<{ ok: true; user: UserRecord } | Refusal> {
  const email = auth.normalizeEmail(input.email);
  if (email === null) return { ok: false, code: "invalid_email", message: "Enter a valid email address" };
  const hashed = await hashNewPassword(deps, { email, password: input.password });
  if (!hashed.ok) return hashed;
  const user = (await deps.users.findUserByEmail(email)) ? null : await deps.users.createUser({ email, passwordHash: hashed.hash });
  return user ? { ok: true, user } : { ok: false, code: "email_taken", message: "An account with this email already exists", email };
}

/** The outcome of {@link authenticateUser}. The reason is for logs only: every failure answers the same. */
export type AuthenticationResult = { ok: true; user: UserRecord } | { ok: false; reason: "unknown_user" | "bad_password" | "disabled" };

/**
 * Check an email and password. Always does the work of one hash verification, whatever the outcome
 * (OWASP Authentication CS: no quick exit for unknown users; a disabled account is verified too, then refused).
 * Upgrades a hash that `needsRehash` (bcrypt from the seed) after a successful verification.
 */
export async function authenticateUser(deps: AccountDeps, input: { email: string; password: string }): Promise<AuthenticationResult> {
  const email = auth.normalizeEmail(input.email);
  const user = email === null ? null : await deps.users.findUserByEmail(email);
  if (user === null) {
    await deps.passwords.dummyVerify(input.password);
    return { ok: false, reason: "unknown_user" };
  }
  if (!(await verifyAccountPassword(deps, user, input.password))) return { ok: false, reason: "bad_password" };
  if (user.disabled) return { ok: false, reason: "disabled" };
  await upgradeHash(deps, user, input.password);
  return { ok: true, user };
}

/**
 * Whether `password` is the account's password. An account without one (passkeys only) costs the same dummy
 * verification as an unknown email, and never matches.
 */
export async function verifyAccountPassword(deps: Pick<AccountDeps, "passwords">, user: UserRecord, password: string): Promise<boolean> {
  if (user.passwordHash === null) return deps.passwords.dummyVerify(password);
  return deps.passwords.verifyPassword(user.passwordHash, password);
}

async function upgradeHash(deps: AccountDeps, user: UserRecord, password: string): Promise<void> {
  if (user.passwordHash === null || !deps.passwords.needsRehash(user.passwordHash)) return;
  try {
    await deps.users.updatePasswordHash(user.id, await deps.passwords.hashPassword(password));
    logAuthEvent(deps.logger, "password.rehashed", { userId: user.id });
  } catch (error) {
    // The login itself succeeded; the upgrade is retried at the next one.
    deps.logger.error({ err: error, userId: user.id }, "password rehash failed");
  }
}

/**
 * Change a password: the current one is required (ASVS 4.0.3 V2.1.6), the new one must pass the policy.
 * Revoking the other sessions is the caller's job (it owns the session manager).
 */
export async function changeUserPassword(
  deps: AccountDeps,
  input: { user: UserRecord; currentPassword: string; newPassword: string; beforeSave?: () => Promise<unknown> },
): Promise<{ ok: true } | Refusal> {
  if (!(await verifyAccountPassword(deps, input.user, input.currentPassword))) {
    return { ok: false, code: "wrong_password", message: "The current password is not correct" };
  }
  const hashed = await hashNewPassword(deps, { email: input.user.email, password: input.newPassword });
  if (!hashed.ok) return hashed;
  // Revoke before saving: if the process dies in between, the old password still works but no other session does.
  // The other order could leave an attacker's session alive next to a changed password.
  await input.beforeSave?.();
  await deps.users.updatePasswordHash(input.user.id, hashed.hash);
  return { ok: true };
}
