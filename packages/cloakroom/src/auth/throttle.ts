/**
 * Brute-force limits for the login form: per account (so rotating IP addresses does not help), per IP, and a cap on
 * consecutive failures. Built on rate-limiter-flexible.
 */
import { normalizeEmail } from "./email.js";
import { ipRateLimitKey } from "./ip-key.js";
import { checkKeyPrefix, consumePoint, hashKey, retryAfterSeconds, withLimiter } from "./limiter.js";
import {
  checkLimit,
  createLimiter,
  type LimiterHandle,
  type LimitOptions,
  type RateLimitBackend,
  type RateLimitBackendType,
} from "./rate-limit-backend.js";

/** Options of {@link createLoginThrottle}. */
export interface LoginThrottleOptions {
  /** Where the counters live; use the sessions' store so every instance shares the counts. */
  backend: RateLimitBackend;
  /**
   * Login attempts per account per window. At most 40 failures an hour with the default, within ASVS 4.0.3 V2.2.1
   * (≤ 100 failed attempts per hour per account).
   * @default { points: 10, duration: 900 } (10 per 15 minutes)
   */
  perAccount?: LimitOptions;
  /** Login attempts per client IP (IPv6: per /64) per window; successful logins are not counted. @default { points: 100, duration: 900 } */
  perIp?: LimitOptions;
  /**
   * Failed attempts per account without a success in between, within `duration` of the first: NIST SP 800-63B-4
   * §3.2.2 (no more than 100 consecutive failures per account). Reaching it refuses the account until the window
   * ends or `resetAccount` is called (after a password reset, say). `false` turns it off.
   * @default { points: 100, duration: 86400 } (100 per 24 hours)
   */
  consecutiveFailures?: LimitOptions | false;
  /** Namespace of the keys. @default "cloakroom:login" */
  keyPrefix?: string;
}

/** Who is trying to log in. */
export interface LoginAttempt {
  /** Client address, as derived with the proxy trust set exactly (Express `req.ip`), never raw X-Forwarded-For. */
  ip: string;
  /** The account identifier as submitted; it is normalized (`normalizeEmail`) and hashed before use. */
  account: string;
}

/** The answer of {@link LoginThrottle.check}. Answer a refusal with 429 and `Retry-After: retryAfterSeconds`. */
export type LoginThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** The login throttle. Every method throws an `Error` with `cause` when the backend fails: answer 503. */
export interface LoginThrottle {
  /** The backend in use (`memory` after a documented fallback). */
  readonly backend: RateLimitBackendType;
  /**
   * Count this attempt and say whether it may proceed. Call it exactly once per attempt, before looking the user up
   * or verifying the password. Counting happens here, atomically in the store, so a burst of parallel requests
   * cannot all slip through before the first failure is recorded.
   */
  check(attempt: LoginAttempt): Promise<LoginThrottleDecision>;
  /**
   * The attempt failed (unknown account or wrong password alike). The window limits already counted it in `check()`;
   * this adds it to the consecutive-failure cap (so with the cap turned off there is nothing left to record).
   */
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /** The attempt succeeded: the account's counters reset and the attempt no longer counts against the IP. */
  recordSuccess(attempt: LoginAttempt): Promise<void>;
  /** Clear an account's counters, for example once its owner has reset the password. */
  resetAccount(account: string): Promise<void>;
}

const DEFAULT_PER_ACCOUNT: LimitOptions = { points: 10, duration: 15 * 60 };
const DEFAULT_PER_IP: LimitOptions = { points: 100, duration: 15 * 60 };
const DEFAULT_CONSECUTIVE: LimitOptions = { points: 100, duration: 24 * 60 * 60 };

/**
 * Create the login throttle. Accounts are keyed by their normalized email (so `Alice@Example.com` and
 * `alice@example.com` share a budget) and every key is stored as a SHA-256 digest, never in clear. Unknown accounts
 * are counted exactly like known ones, so a refusal reveals nothing about whether an account exists.
 *
 * Trade-off (OWASP Authentication CS): per-account limits let an attacker lock a victim out for one window. The
 * windows are short, a success resets the account, and `resetAccount` lifts the consecutive-failure cap.
 *
 * @param options `{ backend, perAccount?, perIp?, consecutiveFailures?, keyPrefix? }`.
 * @returns A {@link LoginThrottle}.
 * @throws {TypeError} When an option is invalid (the message names it).
 * @example
 * const throttle = createLoginThrottle({ backend: { type: "redis", client: redis } });
 * const attempt = { ip: req.ip, account: body.email };
 * const decision = await throttle.check(attempt);
 * if (!decision.allowed) return tooManyRequests(res, decision.retryAfterSeconds);
 * const ok = user ? await verifyPassword(user.passwordHash, body.password) : await dummyVerify(body.password);
 * await (ok ? throttle.recordSuccess(attempt) : throttle.recordFailure(attempt));
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
  const prefix = checkKeyPrefix(options.keyPrefix ?? "cloakroom:login");
  const perAccount = checkLimit(options.perAccount ?? DEFAULT_PER_ACCOUNT, "perAccount");
  const perIp = checkLimit(options.perIp ?? DEFAULT_PER_IP, "perIp");
  const consecutive =
    options.consecutiveFailures === false ? null : checkLimit(options.consecutiveFailures ?? DEFAULT_CONSECUTIVE, "consecutiveFailures");

  const accounts = createLimiter(options.backend, perAccount, `${prefix}:account`);
  const ips = createLimiter(options.backend, perIp, `${prefix}:ip`);
  const failures = consecutive && {
    handle: createLimiter(options.backend, consecutive, `${prefix}:failures`),
    limit: consecutive,
  };

  return {
    backend: accounts.backend,
    async check(attempt) {
      const keys = keysOf(attempt);
      const [account, ip, capWait] = await Promise.all([
        consumePoint(accounts, keys.account),
        consumePoint(ips, keys.ip),
        failures ? secondsUntilUnderCap(failures, keys.account) : 0,
      ]);
      const wait = Math.max(
        account.blocked ? retryAfterSeconds(account.res, perAccount) : 0,
        ip.blocked ? retryAfterSeconds(ip.res, perIp) : 0,
        capWait,
      );
      return wait > 0 ? { allowed: false, retryAfterSeconds: wait } : { allowed: true };
    },
    async recordFailure(attempt) {
      const keys = keysOf(attempt);
      if (failures) await withLimiter(failures.handle, (limiter) => limiter.penalty(keys.account));
    },
    async recordSuccess(attempt) {
      const keys = keysOf(attempt);
      await Promise.all([
        forgetAccount(keys.account),
        // check() counted this attempt against the IP; a success should not use up the IP's budget.
        withLimiter(ips, (limiter) => limiter.reward(keys.ip)),
      ]);
    },
    async resetAccount(account) {
      await forgetAccount(accountKey(account));
    },
  };

  async function forgetAccount(key: string): Promise<void> {
    await Promise.all([
      withLimiter(accounts, (limiter) => limiter.delete(key)),
      failures ? withLimiter(failures.handle, (limiter) => limiter.delete(key)) : null,
    ]);
  }
}

/** Seconds to wait while the account is at its consecutive-failure cap, else 0. Reads; does not count. */
async function secondsUntilUnderCap(cap: { handle: LimiterHandle; limit: LimitOptions }, key: string): Promise<number> {
  const res = await withLimiter(cap.handle, (limiter) => limiter.get(key));
  return res !== null && res.consumedPoints >= cap.limit.points ? retryAfterSeconds(res, cap.limit) : 0;
}

function keysOf(attempt: LoginAttempt): { account: string; ip: string } {
  if (attempt === null || typeof attempt !== "object") throw new TypeError("attempt must be { ip, account }");
  if (typeof attempt.ip !== "string") throw new TypeError("attempt.ip must be a string");
  return { account: accountKey(attempt.account), ip: hashKey(ipRateLimitKey(attempt.ip)) };
}

function accountKey(account: string): string {
  if (typeof account !== "string") throw new TypeError("attempt.account must be a string");
  // Not an email (a username, or garbage): still counted, case- and space-insensitively.
  return hashKey(normalizeEmail(account) ?? account.trim().toLowerCase());
}
