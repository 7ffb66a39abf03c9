/**
 * Signing in with a passkey (discoverable credentials: no email first). The assertion is verified against the
 * session's single-use challenge, PUBLIC_URL's origin and RP ID, the stored public key and signature counter, with user
 * verification required. A success makes the same session as a password login (establishSession: new ticket, new CSRF
 * token, the remember-me choice), and failures count against the same brute-force limits.
 *
 * Signed in already, the same ceremony is a re-authentication (the passkey must be this account's): the ticket
 * rotates and the re-authentication window restarts, as after typing the password on /reauth.
 */
import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Request } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { needsVerification } from "../recovery/email-verification.js";
import { establishSession, type LoginOutcome } from "../session-flows.js";
import type { PasskeyRecord } from "../users/passkeys.js";
import type { UserRecord } from "../users/types.js";
import { rememberChallenge, takeChallenge } from "./challenge.js";
import { userHandleOf } from "./registration.js";
import type { RelyingParty } from "./relying-party.js";

/** Start a passkey sign-in: options for `navigator.credentials.get()` (via startAuthentication()), any passkey of this RP. */
export async function passkeyLoginOptions(ctx: RouteContext, rp: RelyingParty, req: Request): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({ rpID: rp.id, userVerification: "required", timeout: 60_000 });
  rememberChallenge(req, "login", options.challenge, ctx.now());
  return options;
}

/** The outcome of {@link performPasskeyLogin}: a login's, plus a missing challenge, plus "this was a re-authentication". */
export type PasskeyLoginOutcome = (LoginOutcome & { reauthenticated?: boolean }) | { ok: false; status: 400; error: "challenge_expired" };

/** Whether the assertion checks out for this stored passkey. Never throws: a bad answer is just `false`. */
async function verifyAssertion(ctx: RouteContext, rp: RelyingParty, input: { response: AuthenticationResponseJSON; passkey: PasskeyRecord; user: UserRecord; challenge: string }): Promise<boolean> {
  // The user handle, when the authenticator sends one, must name the passkey's account.
  const handle = input.response.response.userHandle;
  if (handle !== undefined && handle !== Buffer.from(userHandleOf(input.user)).toString("base64url")) return false;
  try {
    const result = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: input.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: input.passkey.id, publicKey: new Uint8Array(input.passkey.publicKey), counter: input.passkey.counter, transports: input.passkey.transports },
      requireUserVerification: true,
    });
    if (!result.verified) return false;
    const info = result.authenticationInfo;
    await ctx.passkeys.recordPasskeyUse(input.passkey.id, { counter: info.newCounter, backedUp: info.credentialBackedUp, usedAt: ctx.now() });
    return true;
  } catch {
    // Wrong signature, origin, RP ID or challenge, a counter that went backwards (a cloned authenticator): refused.
    return false;
  }
}

/** Finish a passkey sign-in (or re-authentication) on this request's session. */
export async function performPasskeyLogin(ctx: RouteContext, rp: RelyingParty, req: Request, input: { response: AuthenticationResponseJSON; remember: boolean }): Promise<PasskeyLoginOutcome> {
  const challenge = takeChallenge(req, "login", ctx.now());
  if (challenge === null) return { ok: false, status: 400, error: "challenge_expired" };
  const passkey = await ctx.passkeys.findPasskey(input.response.id);
  const user = passkey ? await ctx.users.findUserById(passkey.userId) : null;
  // Throttled like a password login: by account when the passkey names one, and by IP in every case.
  const throttleKey = { ip: req.ip ?? "unknown", account: user?.email ?? `passkey:${input.response.id}` };
  const gate = await ctx.throttle.check(throttleKey);
  if (!gate.allowed) {
    ctx.metrics.throttled.inc({ scope: "login" });
    logAuthEvent(ctx.logger, "login.throttled", { ip: req.ip, method: "passkey" });
    return { ok: false, status: 429, error: "too_many_attempts", retryAfterSeconds: gate.retryAfterSeconds };
  }
  const signedIn = req.session.userId;
  const usable = passkey && user && !user.disabled && (signedIn === undefined || signedIn === user.id);
  if (!usable || !(await verifyAssertion(ctx, rp, { response: input.response, passkey, user, challenge }))) {
    await ctx.throttle.recordFailure(throttleKey);
    ctx.metrics.logins.inc({ result: "failure" });
    logAuthEvent(ctx.logger, "login.failure", { ip: req.ip, method: "passkey", reason: passkey ? (user && !user.disabled ? "bad_assertion" : "disabled") : "unknown_passkey" });
    return { ok: false, status: 401, error: "invalid_credentials" };
  }
  await ctx.throttle.recordSuccess(throttleKey);
  if (signedIn === user.id) {
    req.session.authAt = ctx.now();
    await req.session.rotate();
    logAuthEvent(ctx.logger, "reauth.success", { userId: user.id, ip: req.ip, sessionKey: req.session.details?.key, method: "passkey" });
    return { ok: true, user, reauthenticated: true };
  }
  if (needsVerification(ctx, user)) return { ok: false, status: 403, error: "email_not_verified" };
  await establishSession(ctx, req, user, { remember: input.remember, method: "passkey" });
  ctx.metrics.logins.inc({ result: "success" });
  logAuthEvent(ctx.logger, "login.success", { userId: user.id, ip: req.ip, sessionKey: req.session.details?.key, method: "passkey" });
  return { ok: true, user };
}
