/**
 * How many account mails anonymous requests may cause: per recipient account and per client IP, on the same backend
 * as the login throttle (so every instance shares the counts). Without it, "forgot password" and "register" with
 * someone else's address would be a way to flood their inbox, or to spend the server's mail reputation.
 */
import { createRateLimit, ipRateLimitKey, normalizeEmail, type RateLimit, type RateLimitBackend } from "cloakroom/auth";
import type { ServerConfig } from "../config.js";

/** The two limits. */
export interface MailLimits {
  perAccount: RateLimit;
  perIp: RateLimit;
}

/**
 * Build the limits from MAIL_MAX_PER_ACCOUNT, MAIL_MAX_PER_IP and MAIL_THROTTLE_WINDOW.
 * @example const mailLimits = createMailLimits({ backend: { type: "redis", client }, config, keyPrefix: "cloakroom:" });
 */
export function createMailLimits(options: {
  backend: RateLimitBackend;
  config: Pick<ServerConfig, "mailMaxPerAccount" | "mailMaxPerIp" | "mailThrottleWindow">;
  keyPrefix: string;
}): MailLimits {
  const duration = Math.ceil(options.config.mailThrottleWindow / 1000);
  return {
    perAccount: createRateLimit({ backend: options.backend, points: options.config.mailMaxPerAccount, duration, keyPrefix: `${options.keyPrefix}mail:account` }),
    perIp: createRateLimit({ backend: options.backend, points: options.config.mailMaxPerIp, duration, keyPrefix: `${options.keyPrefix}mail:ip` }),
  };
}

/**
 * Count one mail to `email` asked for from `ip`, and say whether it may go. Both limits are always counted, for known
 * and unknown addresses alike, so their state reveals nothing about which addresses have accounts.
 * @throws {Error} when the backend fails (the caller runs in the background and logs it)
 */
export async function allowAccountMail(limits: MailLimits, input: { email: string; ip: string }): Promise<boolean> {
  const account = normalizeEmail(input.email) ?? input.email.trim().toLowerCase();
  const [perAccount, perIp] = await Promise.all([limits.perAccount.consume(account), limits.perIp.consume(ipRateLimitKey(input.ip))]);
  return perAccount.allowed && perIp.allowed;
}
