/**
 * Structured logs (pino). Auth events go through {@link logAuthEvent}; nothing here ever receives a password, a
 * ticket or a hash. Cookie and authorization headers are redacted should a request object ever be logged.
 */
import { createHash } from "node:crypto";
import pino, { type DestinationStream, type Logger } from "pino";

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** @default "info" */
  level?: string;
  /** Where lines go; default stdout. Tests pass a memory stream to search the output. */
  destination?: DestinationStream;
}

/** Paths pino removes wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  "headers.cookie",
  "headers.authorization",
  "password",
  "*.password",
  "newPassword",
  "currentPassword",
  "passwordHash",
  "*.passwordHash",
];

/**
 * The server's logger: JSON lines, redaction on.
 * @example const logger = createLogger({ level: "debug" });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "cloakroom-server" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    options.destination,
  );
}

/**
 * A short, stable label for a session in logs: 12 hex characters of SHA-256 over the store key. The key is already a
 * hash of the ticket; hashing again keeps log lines from carrying anything a store lookup could use.
 */
export function labelSessionKey(key: string | null | undefined): string | undefined {
  if (!key) return undefined;
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

/** Every authentication event the server logs. */
export type AuthEvent =
  | "register.success"
  | "register.rejected"
  | "login.success"
  | "login.failure"
  | "login.throttled"
  | "logout"
  | "reauth.success"
  | "reauth.failure"
  | "password.changed"
  | "password.change_failed"
  | "password.rehashed"
  | "password.reset"
  | "password.reset_failed"
  | "password_reset.requested"
  | "password_reset.throttled"
  | "email.verification_sent"
  | "email.verification_throttled"
  | "email.verified"
  | "register.attempt_notified"
  | "passkey.added"
  | "passkey.add_failed"
  | "passkey.removed"
  | "password.removed"
  | "session.revoked"
  | "sessions.revoked_others"
  | "csrf.rejected"
  | "session.user_unavailable"
  | "session.ticket_spray"
  | "session.user_agent_changed";

/** Fields an auth event may carry: identifiers only, never secrets. */
export interface AuthEventFields {
  userId?: string;
  /** Store key of the session concerned: logged only as {@link labelSessionKey}. */
  sessionKey?: string | null;
  ip?: string;
  reason?: string;
  count?: number;
  /** How a session signed in (`password`, `passkey`). */
  method?: string;
}

/**
 * Log one authentication event at info (success) or warn (failure) level.
 * @example logAuthEvent(logger, "login.failure", { ip: req.ip, reason: "bad_credentials" })
 */
export function logAuthEvent(logger: Logger, event: AuthEvent, fields: AuthEventFields = {}): void {
  const { sessionKey, ...rest } = fields;
  const line = { event, ...rest, session: labelSessionKey(sessionKey) };
  const failure = /failure|failed|throttled|rejected|unavailable|spray|user_agent_changed/.test(event);
  if (failure) logger.warn(line, event);
  else logger.info(line, event);
}
