/** What every route module receives: the wired dependencies of one app instance. */
import type { SessionStore } from "cloakroom";
import type session from "cloakroom/express";
import type { Logger } from "pino";
import type { PasswordHasher } from "./accounts.js";
import type { BackgroundTasks } from "./background.js";
import type { LoginThrottle } from "./backends.js";
import type { ServerConfig } from "./config.js";
import type { Mailer } from "./mail/mailer.js";
import type { ServerMetrics } from "./metrics.js";
import type { RelyingParty } from "./passkeys/relying-party.js";
import type { MailLimits } from "./recovery/mail-limits.js";
import type { PasskeyRepository } from "./users/passkeys.js";
import type { TokenRepository } from "./users/tokens.js";
import type { UserRepository } from "./users/types.js";

/** The session manager the express middleware exposes (`sessions.manager`). */
export type SessionManager = ReturnType<typeof session>["manager"];

/** Dependencies shared by the routes. */
export interface RouteContext {
  config: ServerConfig;
  users: UserRepository;
  /** Hashes of the mailed single-use tokens (password reset, email verification). */
  tokens: TokenRepository;
  passkeys: PasskeyRepository;
  /** Who passkeys are bound to (from PUBLIC_URL); `null` when PUBLIC_URL cannot have passkeys. */
  relyingParty: RelyingParty | null;
  throttle: LoginThrottle;
  /** Limits on the account mails anonymous requests cause. */
  mailLimits: MailLimits;
  mailer: Mailer;
  /** Work done after the response (mail). */
  background: BackgroundTasks;
  passwords: PasswordHasher;
  logger: Logger;
  metrics: ServerMetrics;
  manager: SessionManager;
  store: SessionStore;
  checkReady: () => Promise<void>;
  now: () => number;
}
