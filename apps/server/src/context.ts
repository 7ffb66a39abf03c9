/** What every route module receives: the wired dependencies of one app instance. */
import type { SessionStore } from "cloakroom";
import type session from "cloakroom/express";
import type { Logger } from "pino";
import type { PasswordHasher } from "./accounts.js";
import type { LoginThrottle } from "./backends.js";
import type { ServerConfig } from "./config.js";
import type { ServerMetrics } from "./metrics.js";
import type { UserRepository } from "./users/types.js";

/** The session manager the express middleware exposes (`sessions.manager`). */
export type SessionManager = ReturnType<typeof session>["manager"];

/** Dependencies shared by the routes. */
export interface RouteContext {
  config: ServerConfig;
  users: UserRepository;
  throttle: LoginThrottle;
  passwords: PasswordHasher;
  logger: Logger;
  metrics: ServerMetrics;
  manager: SessionManager;
  store: SessionStore;
  checkReady: () => Promise<void>;
  now: () => number;
}
