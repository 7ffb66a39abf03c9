/**
 * Password hashing: argon2id for new hashes, bcrypt accepted for legacy ones (the seed app's), rehash decisions, and
 * a dummy verification for unknown users.
 *
 * Both libraries keep the event loop free: argon2's native binding computes on the libuv threadpool (a worker
 * thread), and bcryptjs's async `compare` works in small chunks that yield between them.
 */
import argon2 from "argon2";
import bcrypt from "bcryptjs";
import { randomBytes } from "node:crypto";
import { ARGON2_VERSION, formatArgon2, parseArgon2 } from "./phc.js";
import { hasLoneSurrogate } from "./unicode.js";

/** argon2id cost parameters. Units as in RFC 9106: memory in KiB, time in passes, parallelism in lanes. */
export interface PasswordHashOptions {
  /** Memory in KiB. @default 19456 (19 MiB) */
  memoryCost?: number;
  /** Number of passes. @default 2 */
  timeCost?: number;
  /** Number of lanes. @default 1 */
  parallelism?: number;
}

/**
 * The OWASP Password Storage Cheat Sheet minimum for argon2id (also ASVS 5.0 Appendix C): m=19 MiB, t=2, p=1.
 */
export const DEFAULT_PASSWORD_HASH_OPTIONS: Readonly<Required<PasswordHashOptions>> = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

/**
 * The longest input (in UTF-16 code units) that `hashPassword` and `verifyPassword` look at. Far above any policy
 * maximum; it only stops a megabyte-sized body from being normalized and hashed (SECURITY-CHECKLIST §5.9).
 */
export const MAX_PASSWORD_INPUT_LENGTH = 4096;

// bcrypt reads at most 72 bytes of its input and silently ignores the rest (OWASP Password Storage CS).
const BCRYPT_MAX_BYTES = 72;
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * Hash a password with argon2id and return the PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, parameters
 * in the reference m,t,p order), which carries its own random 16-byte salt and parameters. The password is NFC-normalized first (NIST SP 800-63B-4
 * §3.1.1.2), so every way of typing "é" gives one hash. Run `checkPasswordPolicy` before this.
 *
 * @param password The new password, as the user typed it.
 * @param options argon2id costs; must not be weaker than the OWASP minimum or one of its equivalents.
 * @returns The PHC-formatted hash to store.
 * @throws {TypeError} When `password` is not a string, is longer than {@link MAX_PASSWORD_INPUT_LENGTH} or holds a
 *   lone surrogate, or when an option is out of range (the message names it).
 * @throws {Error} When the argon2 binding fails (the original error is the `cause`).
 * @example
 * const hash = await hashPassword("correct horse battery staple");
 */
export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  const costs = resolveHashOptions(options);
  if (typeof password !== "string") throw new TypeError("password must be a string");
  if (password.length > MAX_PASSWORD_INPUT_LENGTH) {
    throw new TypeError(`password must be at most ${MAX_PASSWORD_INPUT_LENGTH} characters; run checkPasswordPolicy first`);
  }
  if (hasLoneSurrogate(password)) throw new TypeError("password must not contain lone surrogates");
  let hash: string;
  try {
    hash = await argon2.hash(password.normalize("NFC"), { type: argon2.argon2id, ...costs });
  } catch (error) {
    throw new Error("argon2 failed to hash the password", { cause: error });
  }
  const phc = parseArgon2(hash);
  if (!phc) throw new Error("argon2 returned a hash in an unexpected format");
  return formatArgon2(phc);
}

/**
 * Check a password against a stored hash. argon2 (PHC) and bcrypt (`$2a$`, `$2b$`, `$2y$`) hashes are understood.
 * A "no" is always `false`, never an exception: wrong password, unknown hash format, non-string input, input over
 * {@link MAX_PASSWORD_INPUT_LENGTH}, or a lone surrogate.
 *
 * bcrypt hashes: a candidate over 72 UTF-8 bytes is refused, because bcrypt would compare only its first 72 bytes and
 * so accept a different, longer password (ASVS 4.0.3 V2.1.3, no truncation). The NFC form is tried first, then the
 * raw form for hashes made before passwords were normalized.
 *
 * @param hash The stored hash.
 * @param password The password from the login form.
 * @returns `true` only when the password matches.
 * @throws {Error} When the argon2 binding itself fails on a well-formed hash (the original error is the `cause`).
 * @example
 * if (await verifyPassword(user.passwordHash, body.password)) { … }
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (typeof hash !== "string" || !isAcceptableInput(password)) return false;
  const normalized = password.normalize("NFC");
  if (parseArgon2(hash)) return verifyArgon2(hash, normalized);
  if (!BCRYPT.test(hash)) return false;
  const candidates = normalized === password ? [normalized] : [normalized, password];
  for (const candidate of candidates) {
    if (Buffer.byteLength(candidate, "utf8") > BCRYPT_MAX_BYTES) continue;
    // bcryptjs compares the two hash strings in constant time itself.
    if (await bcrypt.compare(candidate, hash)) return true;
  }
  return false;
}

/**
 * Decide whether a stored hash should be replaced by a fresh `hashPassword` result after a successful login.
 *
 * @param hash The stored hash that just verified.
 * @param options The current argon2id costs (the same you pass to `hashPassword`).
 * @returns `true` for bcrypt, for argon2i/argon2d, and for argon2id hashes whose version or costs differ from the
 *   current ones (raising or lowering the costs migrates users on their next login); `false` for an up-to-date hash
 *   and for a format this module cannot produce anyway.
 * @throws {TypeError} When an option is out of range.
 * @example
 * if (needsRehash(user.passwordHash)) await users.setHash(user.id, await hashPassword(password));
 */
export function needsRehash(hash: string, options: PasswordHashOptions = {}): boolean {
  const costs = resolveHashOptions(options);
  if (typeof hash !== "string") return false;
  if (BCRYPT.test(hash)) return true;
  const phc = parseArgon2(hash);
  if (!phc) return false;
  return (
    phc.id !== "argon2id" ||
    phc.version !== ARGON2_VERSION ||
    phc.m !== costs.memoryCost ||
    phc.t !== costs.timeCost ||
    phc.p !== costs.parallelism
  );
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * Spend the same time as `verifyPassword` against an argon2id hash, and answer `false`. Call it when the account does
 * not exist, so an unknown email and a wrong password take alike long (OWASP Authentication CS: no quick exit).
 * The dummy hash is made once per set of costs, from random bytes, on first use; call `dummyVerify("")` at start-up
 * so the first unknown-user login does not pay for it.
 *
 * @param password The password from the login form (treated exactly as `verifyPassword` treats it).
 * @param options The argon2id costs your real hashes use.
 * @returns Always `false`.
 * @throws {TypeError} When an option is out of range.
 * @throws {Error} When the argon2 binding fails (the original error is the `cause`).
 * @example
 * const ok = user ? await verifyPassword(user.passwordHash, password) : await dummyVerify(password);
 */
export async function dummyVerify(password: string, options: PasswordHashOptions = {}): Promise<false> {
  const hash = await dummyHash(resolveHashOptions(options));
  if (isAcceptableInput(password)) await verifyArgon2(hash, password.normalize("NFC"));
  return false;
}

function dummyHash(costs: Required<PasswordHashOptions>): Promise<string> {
  const key = `${costs.memoryCost},${costs.timeCost},${costs.parallelism}`;
  let pending = dummyHashes.get(key);
  if (!pending) {
    // Cache the promise so concurrent first calls share one computation; forget it if it failed.
    pending = hashPassword(randomBytes(32).toString("base64url"), costs);
    pending.catch(() => dummyHashes.delete(key));
    dummyHashes.set(key, pending);
  }
  return pending;
}

function isAcceptableInput(password: unknown): password is string {
  return typeof password === "string" && password.length <= MAX_PASSWORD_INPUT_LENGTH && !hasLoneSurrogate(password);
}

async function verifyArgon2(hash: string, password: string): Promise<boolean> {
  try {
    // argon2.verify compares the digests with crypto.timingSafeEqual.
    return await argon2.verify(hash, password);
  } catch (error) {
    throw new Error("argon2 failed to verify the password", { cause: error });
  }
}

function resolveHashOptions(options: PasswordHashOptions): Required<PasswordHashOptions> {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
  const costs = { ...DEFAULT_PASSWORD_HASH_OPTIONS, ...definedOnly(options) };
  for (const name of ["memoryCost", "timeCost", "parallelism"] as const) {
    if (!Number.isSafeInteger(costs[name]) || costs[name] < 1) {
      throw new TypeError(`${name} option must be a positive integer`);
    }
  }
  // OWASP's argon2id table: 46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5 are equivalent. Refuse anything
  // below that line: at least 7 MiB, and memory × passes at least 7 MiB × 5.
  if (costs.memoryCost < 7168 || costs.memoryCost * costs.timeCost < 7168 * 5) {
    throw new TypeError(
      "memoryCost option (with timeCost) is below the OWASP argon2id minimum (19456 KiB at timeCost 2, or an equivalent)",
    );
  }
  if (costs.memoryCost < 8 * costs.parallelism) {
    throw new TypeError("memoryCost option must be at least 8 KiB per lane (parallelism)");
  }
  return costs;
}

function definedOnly(options: PasswordHashOptions): PasswordHashOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
