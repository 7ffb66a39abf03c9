/**
 * Adding a passkey to the signed-in account (@simplewebauthn/server): options with a fresh challenge, then the
 * browser's answer verified against it, PUBLIC_URL's origin and RP ID, with user verification required. Discoverable
 * ("resident") credentials only, so the login page can offer "Sign in with a passkey" without asking for an email.
 * The routes require a recent re-authentication first, as for revoking sessions.
 */
import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Request } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import type { PasskeyRecord } from "../users/passkeys.js";
import type { UserRecord } from "../users/types.js";
import { rememberChallenge, takeChallenge } from "./challenge.js";
import type { RelyingParty } from "./relying-party.js";

/** The WebAuthn user handle of an account: its id, which is random and says nothing about the person. */
export function userHandleOf(user: UserRecord): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(user.id);
}

/** Start adding a passkey: the options for `navigator.credentials.create()` (via startRegistration()). */
export async function passkeyRegistrationOptions(ctx: RouteContext, rp: RelyingParty, req: Request, user: UserRecord): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await ctx.passkeys.listUserPasskeys(user.id);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userID: userHandleOf(user),
    attestationType: "none",
    // The authenticator refuses to make a second passkey for this account where it already holds one.
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    timeout: 60_000,
  });
  rememberChallenge(req, "register", options.challenge, ctx.now());
  return options;
}

/** The outcome of {@link registerPasskey}. */
export type PasskeyRegistration =
  | { ok: true; passkey: PasskeyRecord }
  | { ok: false; code: "challenge_expired" | "invalid_passkey" | "passkey_exists" };

/** Finish adding a passkey: verify the browser's answer and keep the credential under the name the user gave it. */
export async function registerPasskey(
  ctx: RouteContext,
  rp: RelyingParty,
  req: Request,
  input: { user: UserRecord; name: string; response: RegistrationResponseJSON },
): Promise<PasskeyRegistration> {
  const challenge = takeChallenge(req, "register", ctx.now());
  if (challenge === null) return { ok: false, code: "challenge_expired" };
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
  } catch (error) {
    // The library throws for every malformed or mismatched answer; the reason is for the log only.
    logAuthEvent(ctx.logger, "passkey.add_failed", { userId: input.user.id, ip: req.ip, reason: error instanceof Error ? error.message.slice(0, 120) : "invalid" });
    return { ok: false, code: "invalid_passkey" };
  }
  if (!verification.verified) return { ok: false, code: "invalid_passkey" };
  const info = verification.registrationInfo;
  const passkey: PasskeyRecord = {
    id: info.credential.id,
    userId: input.user.id,
    name: input.name,
    publicKey: info.credential.publicKey,
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    createdAt: ctx.now(),
    lastUsedAt: null,
  };
  if (!(await ctx.passkeys.addPasskey(passkey))) return { ok: false, code: "passkey_exists" };
  logAuthEvent(ctx.logger, "passkey.added", { userId: input.user.id, ip: req.ip, sessionKey: req.session.details?.key });
  return { ok: true, passkey };
}
