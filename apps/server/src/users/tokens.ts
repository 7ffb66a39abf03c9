/**
 * Single-use tokens sent by mail (password reset, email verification): 256 random bits given to the user once, kept
 * by the server only as SHA-256 (ASVS 5.0 V6.4.1; OWASP Forgot Password CS), so a leaked table or backup holds no
 * link anyone could follow. Looking a token up by its hash needs no constant-time compare: the hash is the key.
 */
import { createHash, randomBytes } from "node:crypto";

/** What a token is for; a reset token never verifies an address, nor the other way round. */
export type TokenPurpose = "password_reset" | "verify_email";

/** A new token: `token` goes into the mail link, `tokenHash` into the table. */
export interface NewEmailToken {
  token: string;
  tokenHash: string;
}

/** 32 bytes from the CSPRNG, base64url: 43 characters. */
export const EMAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The stored form of a token: base64url(SHA-256(token)). */
export function hashEmailToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Make a token.
 * @example const { token, tokenHash } = createEmailToken(); // mail `token`, store `tokenHash`
 */
export function createEmailToken(): NewEmailToken {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: hashEmailToken(token) };
}

/** A token row as either driver returns it. */
export interface TokenRow {
  user_id: string;
  expires_at: string | number;
}

/** Storage for the hashes of mailed tokens. Every method may reject with a ServiceUnavailableError (503). */
export interface TokenRepository {
  /** Create the table if needed. Idempotent. */
  migrate(): Promise<void>;
  /**
   * Keep a new token for the user, removing the user's earlier tokens of the same purpose (a newer request kills
   * older links) and every expired token (housekeeping), in one transaction.
   */
  replaceToken(input: { userId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: number; now: number }): Promise<void>;
  /** The user of a live token, without using it up (the GET of a link: mail scanners fetch links too). */
  findToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null>;
  /**
   * Use a token up: it is deleted whatever its state, and its user returned only when it was live. Atomic: of two
   * concurrent uses, one gets the user and the other `null`.
   */
  consumeToken(tokenHash: string, purpose: TokenPurpose, now: number): Promise<string | null>;
  /** Remove every token of the user for a purpose (after a password change, say). */
  deleteUserTokens(userId: string, purpose: TokenPurpose): Promise<void>;
}

/** The user of a row when it is still live at `now`. */
export function liveTokenUser(row: TokenRow | undefined, now: number): string | null {
  return row && Number(row.expires_at) > now ? row.user_id : null;
}
