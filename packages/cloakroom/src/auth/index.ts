/**
 * `cloakroom/auth`: password hashing and policy, email normalization, brute-force limits and CSRF checks for a
 * session-based login. Peer dependencies: argon2, bcryptjs, rate-limiter-flexible (and the driver of the rate-limit
 * backend you choose: ioredis, pg, better-sqlite3).
 */
export {
  DEFAULT_PASSWORD_HASH_OPTIONS,
  MAX_PASSWORD_INPUT_LENGTH,
  dummyVerify,
  hashPassword,
  needsRehash,
  verifyPassword,
  type PasswordHashOptions,
} from "./passwords.js";
export {
  checkPasswordPolicy,
  type PasswordPolicyCode,
  type PasswordPolicyOptions,
  type PasswordPolicyResult,
} from "./policy.js";
export { COMMON_PASSWORDS } from "./common-passwords.js";
export { normalizeEmail } from "./email.js";
export { ipRateLimitKey } from "./ip-key.js";
export type { LimitOptions, RateLimitBackend, RateLimitBackendType } from "./rate-limit-backend.js";
export { createRateLimit, type RateLimit, type RateLimitDecision, type RateLimitOptions } from "./rate-limit.js";
export {
  createLoginThrottle,
  type LoginAttempt,
  type LoginThrottle,
  type LoginThrottleDecision,
  type LoginThrottleOptions,
} from "./throttle.js";
export {
  checkOrigin,
  createCsrfToken,
  verifyCsrfToken,
  type OriginCheckOptions,
  type OriginCheckRequest,
  type OriginCheckResult,
} from "./csrf.js";
export { ServiceUnavailableError } from "../core/errors.js";
