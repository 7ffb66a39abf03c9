/**
 * createApp: the Express application, wired from its dependencies. Pure wiring, no listening, so tests drive it
 * with supertest. Order matters and is explained inline.
 */
import express, { type Express } from "express";
import helmet from "helmet";
import type { SessionStore } from "cloakroom";
import session from "cloakroom/express";
import type { Logger } from "pino";
import { defaultPasswordHasher, type PasswordHasher } from "./accounts.js";
import { createBackgroundTasks, type BackgroundTasks } from "./background.js";
import type { LoginThrottle } from "./backends.js";
import type { ServerConfig } from "./config.js";
import type { RouteContext, SessionManager } from "./context.js";
import { errorHandler, notFoundHandler } from "./errors.js";
import { instrumentStore } from "./instrumented-store.js";
import { logAuthEvent } from "./logger.js";
import { createMailer, type Mailer } from "./mail/mailer.js";
import { createMetrics, type ServerMetrics } from "./metrics.js";
import { relyingPartyOf } from "./passkeys/relying-party.js";
import type { MailLimits } from "./recovery/mail-limits.js";
import { apiRoutes, requireJsonBody } from "./routes/api.js";
import { operationalRoutes } from "./routes/health.js";
import { accountPageRoutes } from "./routes/pages-account.js";
import { authPageRoutes } from "./routes/pages-auth.js";
import { passkeyPageRoutes } from "./routes/pages-passkeys.js";
import { recoveryPageRoutes } from "./routes/pages-recovery.js";
import { seedRoutes } from "./routes/seed.js";
import { csrfProtection } from "./security/csrf.js";
import { rejectMethodOverride } from "./security/method-override.js";
import { createTicketSprayGuard } from "./security/ticket-spray.js";
import { noStore } from "./security/no-store.js";
import type { PasskeyRepository } from "./users/passkeys.js";
import type { TokenRepository } from "./users/tokens.js";
import type { UserRepository } from "./users/types.js";
import "./session-data.js";

/** What {@link createApp} needs. */
export interface AppDeps {
  config: ServerConfig;
  /** Session-signing secrets, first signs (see resolveSessionSecrets). */
  secrets: string[];
  store: SessionStore;
  users: UserRepository;
  tokens: TokenRepository;
  passkeys: PasskeyRepository;
  throttle: LoginThrottle;
  mailLimits: MailLimits;
  logger: Logger;
  checkReady: () => Promise<void>;
  /** @default SMTP_URL's server, or the development outbox */
  mailer?: Mailer;
  /** @default cloakroom/auth at its OWASP defaults */
  passwords?: PasswordHasher;
  /** The clock for sessions and re-authentication. @default Date.now */
  now?: () => number;
  /** Export Node.js process metrics. @default true */
  processMetrics?: boolean;
}

/** The app and the pieces tests and the CLI look at. */
export interface ServerApp {
  app: Express;
  metrics: ServerMetrics;
  manager: SessionManager;
  store: SessionStore;
  mailer: Mailer;
  /** Work still running after its response (mail): `drain()` before closing the backends. */
  background: BackgroundTasks;
}

/** Body limits: far above any legitimate form here, far below anything that costs (checklist §5.8: 413). */
const BODY_LIMIT = "16kb";

/**
 * Build the application.
 * @example
 * const { app } = createApp({ config, secrets, store, users, tokens, passkeys, throttle, mailLimits, logger, checkReady });
 * app.listen(config.port, config.host);
 */
export function createApp(deps: AppDeps): ServerApp {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const metrics = createMetrics({
    countSessions: deps.store.capabilities.count ? () => deps.store.count() : null,
    processMetrics: deps.processMetrics,
  });
  const store = instrumentStore(deps.store, metrics.storeLatency);

  // Sprays of invalid tickets: counted from the session middleware's events, refused before it (see ticket-spray.ts).
  const spray = createTicketSprayGuard({ logger, metrics, now });
  const sessions = session({
    secret: deps.secrets,
    onEvent(event) {
      spray.onSessionEvent(event);
      // OWASP Session Management CS "Binding": a User-Agent change is logged for detection, never acted on.
      if (event.type === "user_agent_changed") {
        logAuthEvent(logger, "session.user_agent_changed", { ...(event.userId ? { userId: event.userId } : {}), ...(event.ip ? { ip: event.ip } : {}) });
      }
    },
    store,
    cookie: { secure: config.cookieSecure, sameSite: "lax", httpOnly: true, maxAge: null },
    idleTimeout: config.idleTimeout,
    absoluteTimeout: config.absoluteTimeout,
    now,
  });
  const mailer = deps.mailer ?? createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir, logger });
  const background = createBackgroundTasks(logger);
  const ctx: RouteContext = {
    config,
    users: deps.users,
    tokens: deps.tokens,
    passkeys: deps.passkeys,
    relyingParty: relyingPartyOf(config.publicUrl),
    throttle: deps.throttle,
    mailLimits: deps.mailLimits,
    mailer,
    background,
    passwords: deps.passwords ?? defaultPasswordHasher,
    logger,
    metrics,
    manager: sessions.manager,
    store,
    checkReady: deps.checkReady,
    now,
  };

  const app = express();
  // Exactly as configured: X-Forwarded-* is ignored unless TRUST_PROXY says which proxies to believe
  // (checklist §5.13: spoofed X-Forwarded-For must not dodge the per-IP limit, nor X-Forwarded-Proto earn Secure).
  app.set("trust proxy", config.trustProxy);
  app.disable("x-powered-by");
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          // Same-origin files only, nothing inline: the passkey pages' two scripts and their fetch() to /api.
          scriptSrc: ["'self'"],
          connectSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      referrerPolicy: { policy: "same-origin" },
    }),
  );
  // Operational routes never load a session: probes and scrapes must not create records or depend on cookies.
  app.use(operationalRoutes(ctx));
  app.use(noStore());
  app.use(express.json({ limit: BODY_LIMIT, strict: true, type: "application/json" }));
  app.use(express.urlencoded({ limit: BODY_LIMIT, extended: false, parameterLimit: 20 }));
  app.use(rejectMethodOverride());
  app.use(spray.middleware);
  app.use(sessions);
  app.use("/api", requireJsonBody);
  app.use(csrfProtection({ allowedOrigins: config.allowedOrigins, logger }));
  app.use("/api", apiRoutes(ctx));
  app.use(seedRoutes(ctx));
  app.use(authPageRoutes(ctx));
  app.use(recoveryPageRoutes(ctx));
  app.use(passkeyPageRoutes(ctx));
  app.use(accountPageRoutes(ctx));
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return { app, metrics, manager: sessions.manager, store, mailer, background };
}
