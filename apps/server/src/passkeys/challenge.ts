/**
 * The challenge of a WebAuthn ceremony lives in the session that asked for it, for five minutes, and is used up by the
 * first answer (WebAuthn L3 §13.4.3: challenges are single use; a replayed assertion finds none).
 */
import type { Request } from "express";

/** What a challenge is for: an answer to a sign-in challenge cannot register a passkey, nor the other way round. */
export type CeremonyPurpose = "register" | "login";

/** How long the browser has to answer. The options ask it to give up after one minute; this leaves slack. */
export const CHALLENGE_TTL = 5 * 60_000;

/** Keep the challenge just sent, replacing any earlier one. */
export function rememberChallenge(req: Request, purpose: CeremonyPurpose, challenge: string, now: number): void {
  req.session.webauthn = { challenge, purpose, expiresAt: now + CHALLENGE_TTL };
}

/** Take the session's challenge for `purpose`: it is removed whatever happens next. @returns `null` when none is live */
export function takeChallenge(req: Request, purpose: CeremonyPurpose, now: number): string | null {
  const pending = req.session.webauthn;
  if (pending === undefined) return null;
  delete req.session.webauthn;
  return pending.purpose === purpose && pending.expiresAt > now ? pending.challenge : null;
}
