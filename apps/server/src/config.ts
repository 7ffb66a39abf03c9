/**
 * The server's configuration: environment variables validated with zod into one typed object.
 * A bad value is reported as one line naming the variable and what it accepts; nothing starts.
 *
 * Each setting is declared once, in `settings`: its key in the config, its variable (the schema's `env` metadata),
 * its parser and default. {@link ServerConfig} is derived from the schema. Settings that depend on each other (the
 * session store and its URL, defaults that follow NODE_ENV or HOST) are resolved in one transform at the end; the
 * store-specific ones become the {@link SessionSettings} union, so code that opens a store gets its URL typed.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { duration, mailbox, optionalText, origin, origins, positiveInt, secrets, trustProxy, url } from "./config-parsers.js";

export type { TrustProxySetting } from "./config-parsers.js";

declare module "zod" {
  interface GlobalMeta {
    /** The environment variable a setting is read from. */
    env?: string;
  }
}

/** apps/server/.data, wherever the process was started from. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../.data", import.meta.url));

const STORES = ["memory", "sqlite", "redis", "postgres", "memcached"] as const;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Where sessions live. */
export type SessionStoreKind = (typeof STORES)[number];

/** SESSION_CACHE=on: an in-process LRU in front of the shared store; `ttl` (SESSION_CACHE_TTL, ms) bounds staleness. */
export interface SessionCacheSettings {
  ttl: number;
}

/**
 * The session store and what only that store needs. The URL a store needs is required by its variant, and
 * SESSION_CACHE exists only where there is an invalidation channel (Redis pub/sub, PostgreSQL LISTEN/NOTIFY).
 */
export type SessionSettings =
  | { store: "memory" }
  | { store: "sqlite" }
  | { store: "redis"; redisUrl: string; cache: SessionCacheSettings | null }
  | { store: "postgres"; databaseUrl: string; cache: SessionCacheSettings | null }
  | { store: "memcached"; memcachedUrl: string };

/** Read setting `key` from the variable `name`. */
function env<T extends z.ZodType>(name: string, schema: T): T {
  return schema.meta({ env: name });
}

const settings = z.object({
  env: env("NODE_ENV", z.enum(["development", "production", "test"]).default("development")),
  port: env(
    "PORT",
    z
      .string()
      .trim()
      .default("3000")
      .refine((v) => /^\d+$/.test(v) && Number(v) <= 65535, { message: "must be a port number from 0 to 65535" })
      .transform(Number),
  ),
  host: env("HOST", z.string().trim().min(1, { message: "must be a host name or IP address" }).default("127.0.0.1")),
  /** From SESSION_SECRETS; `null` when unset (see `resolveSessionSecrets`). */
  sessionSecrets: env("SESSION_SECRETS", secrets),
  sessionStore: env("SESSION_STORE", z.enum(STORES, { message: `must be one of ${STORES.join(", ")}` }).optional()),
  redisUrl: env("REDIS_URL", url(["redis:", "rediss:"])),
  /** Users, reset tokens and passkeys live in PostgreSQL when set, in SQLite otherwise. */
  databaseUrl: env("DATABASE_URL", url(["postgres:", "postgresql:"]).transform((v) => v ?? null)),
  memcachedUrl: env(
    "MEMCACHED_URL",
    optionalText.refine((v) => v === undefined || /^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/.test(v), {
      message: "must be host:port (comma-separated for several servers)",
    }),
  ),
  sessionCache: env("SESSION_CACHE", z.enum(["off", "on"], { message: "must be off or on" }).default("off")),
  sessionCacheTtl: env("SESSION_CACHE_TTL", duration("5s", 100, 60_000)),
  dataDir: env("DATA_DIR", optionalText.transform((v) => path.resolve(v ?? DEFAULT_DATA_DIR))),
  trustProxy: env("TRUST_PROXY", trustProxy),
  // No default here: it depends on NODE_ENV (see the transform).
  cookieSecure: env("COOKIE_SECURE", z.enum(["auto", "true", "false"], { message: "must be auto, true or false" }).optional()),
  idleTimeout: env("SESSION_IDLE_TIMEOUT", duration("30m", 60_000, 30 * 86_400_000)),
  absoluteTimeout: env("SESSION_ABSOLUTE_TIMEOUT", duration("12h", 60_000, 400 * 86_400_000)),
  rememberTimeout: env("SESSION_REMEMBER_TIMEOUT", duration("12h", 60_000, 400 * 86_400_000)),
  reauthWindow: env("REAUTH_WINDOW", duration("15m", 10_000, 86_400_000)),
  /** Origins allowed on state-changing requests; `null` = only the request's own origin. */
  allowedOrigins: env("ALLOWED_ORIGINS", origins),
  loginMaxFailuresPerAccount: env("LOGIN_MAX_FAILURES_PER_ACCOUNT", positiveInt(10, 100)),
  loginMaxFailuresPerIp: env("LOGIN_MAX_FAILURES_PER_IP", positiveInt(100, 100_000)),
  loginThrottleWindow: env("LOGIN_THROTTLE_WINDOW", duration("15m", 1_000, 86_400_000)),
  /** The origin in mail links and the passkeys' relying party (its host name is the RP ID). Default: see the transform. */
  publicUrl: env("PUBLIC_URL", origin),
  /** `smtp://user:pass@host:port` or `smtps://…`; `null` = the development outbox under DATA_DIR/outbox. */
  smtpUrl: env("SMTP_URL", url(["smtp:", "smtps:"]).transform((v) => v ?? null)),
  mailFrom: env("MAIL_FROM", mailbox),
  passwordResetTtl: env("PASSWORD_RESET_TTL", duration("30m", 60_000, 86_400_000)),
  emailVerification: env("EMAIL_VERIFICATION", z.enum(["off", "required"], { message: "must be off or required" }).default("off")),
  mailMaxPerAccount: env("MAIL_MAX_PER_ACCOUNT", positiveInt(5, 1000)),
  mailMaxPerIp: env("MAIL_MAX_PER_IP", positiveInt(50, 100_000)),
  mailThrottleWindow: env("MAIL_THROTTLE_WINDOW", duration("1h", 1_000, 86_400_000)),
  logLevel: env("LOG_LEVEL", z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info")),
});

type Settings = z.output<typeof settings>;

/** A cross-setting problem, reported on the whole configuration (the message names the variables). */
function fail(ctx: z.RefinementCtx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: "custom", path: [], message });
  return z.NEVER;
}

/** The session store and its own settings, or an issue. The default store follows DATABASE_URL. */
function resolveSession(s: Settings, ctx: z.RefinementCtx): SessionSettings {
  const store = s.sessionStore ?? (s.databaseUrl ? "postgres" : "sqlite");
  const cache = s.sessionCache === "on" ? { ttl: s.sessionCacheTtl } : null;
  if (cache && store !== "redis" && store !== "postgres") {
    // memory and sqlite live in one process or file already; memcached has no channel to push invalidations on.
    return fail(ctx, `SESSION_CACHE=on needs SESSION_STORE=redis or postgres (it is ${store}, which has no invalidation channel)`);
  }
  const required = (name: string, value: string | null | undefined): string => value ?? fail(ctx, `${name} is required when SESSION_STORE=${store}`);
  switch (store) {
    case "redis":
      return { store, redisUrl: required("REDIS_URL", s.redisUrl), cache };
    case "postgres":
      return { store, databaseUrl: required("DATABASE_URL", s.databaseUrl), cache };
    case "memcached":
      return { store, memcachedUrl: required("MEMCACHED_URL", s.memcachedUrl) };
    default:
      return { store };
  }
}

/** The listening URL as a browser would type it; loopback and wildcard hosts become `localhost` (a valid RP ID). */
function defaultPublicUrl(host: string, port: number): string {
  const local = ["127.0.0.1", "::1", "0.0.0.0", "::", "localhost"].includes(host);
  const name = local ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

const configSchema = settings.transform((s, ctx) => {
  const { sessionStore: _store, redisUrl: _redis, memcachedUrl: _memcached, sessionCache: _cache, sessionCacheTtl: _ttl, ...rest } = s;
  if (s.idleTimeout > s.absoluteTimeout) return fail(ctx, "SESSION_IDLE_TIMEOUT must not exceed SESSION_ABSOLUTE_TIMEOUT");
  const session = resolveSession(s, ctx);
  // Production never sends the session cookie over plain HTTP (ASVS V3.4.1): without HTTPS (or a trusted proxy saying
  // so) no cookie is set at all. Development defaults to "auto" so http://127.0.0.1 works.
  const cookieSecure = s.cookieSecure ?? (s.env === "production" ? "true" : "auto");
  const publicUrl = s.publicUrl ?? defaultPublicUrl(s.host, s.port);
  return {
    ...rest,
    session,
    cookieSecure: cookieSecure === "auto" ? ("auto" as const) : cookieSecure === "true",
    rememberTimeout: Math.min(s.rememberTimeout, s.absoluteTimeout),
    publicUrl,
    mailFrom: s.mailFrom ?? `Cloakroom <no-reply@${new URL(publicUrl).hostname}>`,
  };
});

/** The validated configuration. Durations are milliseconds. */
export type ServerConfig = z.output<typeof configSchema>;

/** The outcome of {@link loadConfig}: a config, or one line for the operator. */
export type ConfigResult = { ok: true; config: ServerConfig } | { ok: false; message: string };

/** The variable each setting is read from, in declaration order. */
export const SETTING_VARIABLES: ReadonlyMap<string, string> = new Map(
  Object.entries(settings.shape).map(([key, schema]) => [key, schema.meta()?.env ?? key]),
);

/**
 * Validate the environment into a {@link ServerConfig}.
 * @param env usually `process.env`
 * @returns the config, or `{ ok: false, message }` with one line naming the first bad variable
 * @example
 * const result = loadConfig(process.env);
 * if (!result.ok) { console.error(result.message); process.exit(1); }
 */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const input = Object.fromEntries([...SETTING_VARIABLES].map(([key, name]) => [key, env[name]]));
  const parsed = configSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  const issue = parsed.error.issues[0];
  const key = issue?.path[0];
  const subject = key === undefined ? "" : `${SETTING_VARIABLES.get(String(key)) ?? String(key)} `;
  return { ok: false, message: `Invalid configuration: ${subject}${issue?.message ?? "is invalid"}` };
}
