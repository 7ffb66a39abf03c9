/**
 * One canonical form for an email address, used as the account key at registration, at login and by the login
 * throttle — the same function everywhere, so `Alice@Example.COM` and `alice@example.com` are one account
 * (SECURITY-CHECKLIST §5.12).
 */
import { domainToASCII } from "node:url";

// RFC 5321 §4.5.3.1: 64 octets of local part; 254 octets for the whole address (RFC 3696 errata 1690).
const MAX_LOCAL_BYTES = 64;
const MAX_ADDRESS_BYTES = 254;
// Anything longer cannot shrink to 254 bytes under NFKC, so it is refused before any Unicode work.
const MAX_RAW_LENGTH = 1024;
// Whitespace, control characters (NUL included), invisible format characters (zero-width, bidi overrides) and lone
// surrogates: none belongs in an address, and the invisible ones would let two accounts look identical.
const FORBIDDEN = /[\s\p{Cc}\p{Cf}\p{Cs}]/u;
// Letters, marks, digits, dots and hyphens only. domainToASCII is a URL-host parser: left alone it would decode
// "ex%41mple.com" to "example.com" and cut "evil/x.com" down to "evil".
const DOMAIN_CHARACTERS = /^[\p{L}\p{M}\p{N}.-]+$/u;
const ASCII_DOMAIN = /^[a-z0-9.-]+$/;
const NUMERIC_LABEL = /(?:^|\.)\d+$/;

/**
 * Normalize an email address, or return `null` when it is not one. Steps: NFKC (full-width `＠` becomes `@`), trim,
 * lower-case (local parts are case-sensitive in theory, in practice no provider treats them so, and two accounts
 * differing only in case invite confusion), and convert the domain to its ASCII (punycode) form so `bücher.example`
 * and `xn--bcher-kva.example` are one domain.
 *
 * Plus-addressing is preserved: `alice+news@example.com` stays distinct from `alice@example.com`, as they may be
 * different mailboxes. Gmail-style dot removal is not done for the same reason.
 *
 * Refused (`null`): non-strings, no `@` or more than one, an empty local part or domain, an empty domain label
 * (`a@b..c`, a trailing dot `a@example.com.`), whitespace, NUL or other control/format characters inside, a domain
 * with characters other than letters, digits, dots and hyphens, an IP address as domain, more than 64 bytes of local
 * part or 254 bytes in all.
 *
 * @param input The address as typed, straight from the request body (any type).
 * @returns The canonical address, or `null`.
 * @example
 * normalizeEmail("  Alice@Example.COM ") // "alice@example.com"
 * normalizeEmail("alice＠example.com")    // "alice@example.com"
 * normalizeEmail("alice@example.com.")   // null
 */
export function normalizeEmail(input: unknown): string | null {
  if (typeof input !== "string" || input.length > MAX_RAW_LENGTH) return null;
  const address = input.normalize("NFKC").trim().toLowerCase();
  if (FORBIDDEN.test(address)) return null;

  const parts = address.split("@");
  if (parts.length !== 2) return null;
  const [local = "", unicodeDomain = ""] = parts;
  if (local === "" || Buffer.byteLength(local, "utf8") > MAX_LOCAL_BYTES) return null;
  if (!DOMAIN_CHARACTERS.test(unicodeDomain)) return null;
  if (unicodeDomain.split(".").some((label) => label === "")) return null;

  // UTS #46 processing; "" for what cannot be a domain name.
  const domain = domainToASCII(unicodeDomain);
  // No top-level domain is all digits: "192.0.2.1" is an IP address, not a mail domain.
  if (!ASCII_DOMAIN.test(domain) || NUMERIC_LABEL.test(domain)) return null;
  const normalized = `${local}@${domain}`;
  return Buffer.byteLength(normalized, "utf8") > MAX_ADDRESS_BYTES ? null : normalized;
}
