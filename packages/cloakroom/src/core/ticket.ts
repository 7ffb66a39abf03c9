/**
 * Session tickets: the opaque bearer value inside the cookie, and the store key derived from it.
 */
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto";

/** Source of cryptographically secure random bytes (injectable so tests can make tickets deterministic). */
export type RandomBytes = (size: number) => Buffer;

/** 32 bytes = 256 bits; ASVS 5.0 V7.2.3 asks for at least 128 bits from a CSPRNG. */
export const TICKET_BYTES = 32;

/**
 * Make a new ticket: 32 bytes from the CSPRNG, base64url (43 characters, no padding).
 * @param randomBytes the random source
 * @default randomBytes node:crypto's randomBytes (never Math.random, never a UUID)
 * @returns the ticket
 * @example
 * const ticket = generateTicket(); // "q8V3…" (43 chars)
 */
export function generateTicket(randomBytes: RandomBytes = nodeRandomBytes): string {
  return randomBytes(TICKET_BYTES).toString("base64url");
}

/**
 * The key a store keeps a session under: base64url(SHA-256(ticket)). A leaked store (backup, replica, log of keys)
 * then holds nothing a client could present as a cookie — Lucia's guide does the same; the maintained libraries don't.
 * @param ticket the ticket from the cookie
 * @returns 43 characters of base64url
 */
export function storeKeyOf(ticket: string): string {
  return createHash("sha256").update(ticket).digest("base64url");
}

/**
 * A short, non-reversible label of a store key for logs (never log the ticket or the full key).
 * @param key a store key
 * @returns the first 12 characters of SHA-256(key), base64url
 */
export function logLabelOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 12);
}
