/**
 * The password policy for registration and password change: NIST SP 800-63B-4 §3.1.1.2 and ASVS 4.0.3 V2.1 — length
 * and a blocklist, no composition rules, any Unicode accepted.
 */
import { COMMON_PASSWORDS } from "./common-passwords.js";
import { normalizeEmail } from "./email.js";
import { countCodePoints, hasLoneSurrogate } from "./unicode.js";

/** Options of {@link checkPasswordPolicy}. */
export interface PasswordPolicyOptions {
  /**
   * Fewest code points. NIST SP 800-63B-4 §3.1.1.2: verifiers SHALL require at least 15 when the password is the only
   * factor, and at least 8 when it is one factor of multi-factor authentication — so lower it only for the latter.
   * @default 15
   */
  minLength?: number;
  /**
   * Most code points, counted after NFC. ASVS 4.0.3 V2.1.2: at least 64 allowed, more than 128 denied.
   * @default 128
   */
  maxLength?: number;
  /**
   * Most UTF-8 bytes of the raw input, checked before any other work so a huge body is refused at once.
   * @default 8 × maxLength (1024): room for the decomposed (NFD) spelling of any maxLength-code-point password.
   */
  maxBytes?: number;
  /** The account's email; the password may equal neither it nor its local part (NIST: context-specific words). */
  email?: string;
  /**
   * More words to refuse, looked up in lower case (for example a breached-password list or the service's name).
   * Checked in addition to the bundled list.
   */
  blocklist?: { has(word: string): boolean };
}

/** Why a password was refused. */
export type PasswordPolicyCode =
  | "password_not_string"
  | "password_too_short"
  | "password_too_long"
  | "password_common"
  | "password_invalid";

/** The result of {@link checkPasswordPolicy}: the NFC password to hash, or a code and a short user-facing message. */
export type PasswordPolicyResult =
  | { ok: true; password: string }
  | { ok: false; code: PasswordPolicyCode; message: string };

const NIST_SINGLE_FACTOR_MIN = 15;
const NIST_MULTI_FACTOR_MIN = 8;
const ASVS_MAX_FLOOR = 64;
const ASVS_MAX = 128;

/**
 * Check a new password against the policy. Only length and a blocklist are enforced — no "one digit, one symbol"
 * composition rules (NIST SP 800-63B-4 SHALL NOT; ASVS V2.1.9) — and every Unicode character, spaces, emoji and NUL
 * included, is allowed. Length is counted in code points after NFC, so 15 emoji meet a minimum of 15.
 *
 * Order matters: the raw size is checked first (a 1 MB string is refused without being normalized or hashed), then
 * lone surrogates (they would turn into U+FFFD when encoded and collide), then length, then the blocklist.
 *
 * @param password The candidate, straight from the request body (any type).
 * @param options Limits, the account's email, and an optional extra blocklist.
 * @returns `{ ok: true, password }` with the NFC-normalized password, or `{ ok: false, code, message }`.
 * @throws {TypeError} When an option is out of range (the message names it).
 * @example
 * const result = checkPasswordPolicy(body.password, { email });
 * if (!result.ok) return res.status(400).json({ error: result.code, message: result.message });
 * const hash = await hashPassword(result.password);
 */
export function checkPasswordPolicy(password: unknown, options: PasswordPolicyOptions = {}): PasswordPolicyResult {
  const { minLength, maxLength, maxBytes } = resolveLimits(options);
  if (typeof password !== "string") return refuse("password_not_string", "Enter a password.");
  const tooLong = refuse("password_too_long", `Use at most ${maxLength} characters.`);
  // Each UTF-16 unit is at least one UTF-8 byte, so `length` bounds the byte count from below in O(1).
  if (password.length > maxBytes || Buffer.byteLength(password, "utf8") > maxBytes) return tooLong;
  if (hasLoneSurrogate(password)) return refuse("password_invalid", "This password contains an invalid character.");

  const normalized = password.normalize("NFC");
  const length = countCodePoints(normalized);
  if (length < minLength) return refuse("password_too_short", `Use at least ${minLength} characters.`);
  if (length > maxLength) return tooLong;
  if (isPredictable(normalized, options)) {
    return refuse("password_common", "This password is too common or easy to guess. Try a longer passphrase.");
  }
  return { ok: true, password: normalized };
}

function isPredictable(password: string, options: PasswordPolicyOptions): boolean {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || options.blocklist?.has(lower) === true) return true;
  if (isRepeatedUnit(lower) || isSequence(lower)) return true;
  const email = options.email === undefined ? null : normalizeEmail(options.email);
  return email !== null && (lower === email || lower === email.slice(0, email.lastIndexOf("@")));
}

/**
 * "aaaaaaaaaaaaaaa", "abababababababab", "passwordpasswordpassword": a short unit (≤ 4 code points, or a blocklisted
 * word) repeated. NIST SP 800-63B lists repetitive characters among what a blocklist covers.
 */
function isRepeatedUnit(lower: string): boolean {
  const points = [...lower];
  for (let size = 1; size <= points.length / 2; size += 1) {
    if (points.length % size !== 0) continue;
    const unit = points.slice(0, size).join("");
    if (unit.repeat(points.length / size) !== lower) continue;
    if (size <= 4 || COMMON_PASSWORDS.has(unit)) return true;
  }
  return false;
}

/** "123456789012345", "abcdefghijklmnop", "987654321098765": each character one step from the last (digits wrap). */
function isSequence(lower: string): boolean {
  const points = [...lower].map((c) => c.codePointAt(0) ?? 0);
  const isDigit = (p: number): boolean => p >= 0x30 && p <= 0x39;
  for (const step of [1, -1]) {
    const follows = points.every((p, i) => {
      if (i === 0) return true;
      const prev = points[i - 1] ?? 0;
      if (isDigit(prev) && isDigit(p)) return (p - 0x30 - (prev - 0x30) - step + 10) % 10 === 0;
      return p - prev === step;
    });
    if (follows) return true;
  }
  return false;
}

function refuse(code: PasswordPolicyCode, message: string): PasswordPolicyResult {
  return { ok: false, code, message };
}

function resolveLimits(options: PasswordPolicyOptions): { minLength: number; maxLength: number; maxBytes: number } {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
  const minLength = options.minLength ?? NIST_SINGLE_FACTOR_MIN;
  const maxLength = options.maxLength ?? ASVS_MAX;
  const maxBytes = options.maxBytes ?? maxLength * 8;
  if (!Number.isSafeInteger(minLength) || minLength < NIST_MULTI_FACTOR_MIN) {
    throw new TypeError(`minLength option must be an integer of at least ${NIST_MULTI_FACTOR_MIN} (NIST SP 800-63B-4)`);
  }
  if (!Number.isSafeInteger(maxLength) || maxLength < Math.max(ASVS_MAX_FLOOR, minLength)) {
    throw new TypeError(`maxLength option must be an integer of at least ${ASVS_MAX_FLOOR} and at least minLength (ASVS V2.1.2)`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < maxLength * 4) {
    throw new TypeError("maxBytes option must be an integer of at least 4 × maxLength (a code point is up to 4 bytes)");
  }
  if (options.blocklist !== undefined && typeof options.blocklist?.has !== "function") {
    throw new TypeError("blocklist option must have a has(word) method, like a Set");
  }
  return { minLength, maxLength, maxBytes };
}
