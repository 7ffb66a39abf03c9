/**
 * The server's configuration: environment variables validated with zod into one typed object.
 * A bad value is reported as one line naming the variable and what it accepts; nothing starts.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseDuration } from "./duration.js";

/** Where sessions live. */
export type SessionStoreKind = "memory" | "sqlite" | "redis" | "postgres" | "memcached";

/** What Express's `trust proxy` setting receives: off, on (every hop), a hop count, or a list of addresses/names. */
export type TrustProxySetting = boolean | number | string[];

/** The validated configuration. Durations are milliseconds. */
export interface ServerConfig {
  env: "development" | "production" | "test";
  host: string;
  port: number;
  /** From SESSION_SECRETS; `null` when unset (see `resolveSessionSecrets`). */
  sessionSecrets: string[] | null;
  sessionStore: SessionStoreKind;
  redisUrl: string | null;
  databaseUrl: string | null;
  memcachedUrl: string | null;
  /**
   * SESSION_CACHE=on: an in-process LRU in front of the shared store, invalidated by Redis pub/sub or PostgreSQL
   * LISTEN/NOTIFY (`cloakroom/cached`); `ttl` (SESSION_CACHE_TTL, ms) bounds staleness when an invalidation is lost.
   * `null` = off.
   */
  sessionCache: { ttl: number } | null;
  dataDir: string;
  trustProxy: TrustProxySetting;
  cookieSecure: boolean | "auto";
  idleTimeout: number;
  absoluteTimeout: number;
  rememberTimeout: number;
  reauthWindow: number;
  /** Origins allowed on state-changing requests; `null` = only the request's own origin. */
  allowedOrigins: string[] | null;
  loginMaxFailuresPerAccount: number;
  loginMaxFailuresPerIp: number;
  loginThrottleWindow: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** The outcome of {@link loadConfig}: a config, or one line for the operator. */
export type ConfigResult = { ok: true; config: ServerConfig } | { ok: false; message: string };

/** apps/server/.data, wherever the process was started from. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../.data", import.meta.url));

const STORES = ["memory", "sqlite", "redis", "postgres", "memcached"] as const;
/** The stores that have an invalidation channel, so SESSION_CACHE=on is allowed with them. */
const CACHEABLE_STORES: SessionStoreKind[] = ["redis", "postgres"];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

function duration(fallback: string, min: number, max: number) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null || ms < min || ms > max) {
        ctx.addIssue({ code: "custom", message: `must be a duration like 30m, 12h or 900s (between ${fmt(min)} and ${fmt(max)})` });
        return z.NEVER;
      }
      return ms;
    });
}

function fmt(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function positiveInt(fallback: number, max: number) {
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= max, { message: `must be a whole number from 1 to ${max}` })
    .transform(Number);
}

function url(protocols: string[]) {
  return optionalText.refine((v) => v === undefined || hasProtocol(v, protocols), {
    message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  });
}

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((v, ctx): TrustProxySetting => {
    if (v === "false" || v === "0" || v === "") return false;
    if (v === "true") return true;
    if (/^\d+$/.test(v)) return Number(v);
    const parts = v.split(",").map((p) => p.trim());
    // Express (proxy-addr) accepts the names loopback/linklocal/uniquelocal, IPs and CIDR ranges.
    if (parts.every((p) => /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(p))) return parts;
    ctx.addIssue({ code: "custom", message: "must be false, true, a hop count, or a comma-separated list of IPs/CIDRs (loopback, linklocal, uniquelocal allowed)" });
    return z.NEVER;
  });

const secrets = optionalText.transform((v, ctx) => {
  if (v === undefined) return null;
  const list = v.split(",").map((s) => s.trim());
  if (list.some((s) => s.length < 32)) {
    ctx.addIssue({ code: "custom", message: "must be a comma-separated list of secrets, each at least 32 characters (the first signs)" });
    return z.NEVER;
  }
  return list;
});

const origins = optionalText.transform((v, ctx) => {
  if (v === undefined) return null;
  const list = v.split(",").map((s) => s.trim());
  const valid = list.every((o) => {
    try {
      const u = new URL(o);
      return (u.protocol === "https:" || u.protocol === "http:") && u.origin === o;
    } catch {
      return false;
    }
  });
  if (!valid) {
    ctx.addIssue({ code: "custom", message: "must be a comma-separated list of origins like https://auth.example.com (no path, no trailing slash)" });
    return z.NEVER;
  }
  return list;
});

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z
    .string()
    .trim()
    .default("3000")
    .refine((v) => /^\d+$/.test(v) && Number(v) <= 65535, { message: "must be a port number from 0 to 65535" })
    .transform(Number),
  HOST: z.string().trim().min(1, { message: "must be a host name or IP address" }).default("127.0.0.1"),
  SESSION_SECRETS: secrets,
  SESSION_STORE: z.enum(STORES, { message: `must be one of ${STORES.join(", ")}` }).optional(),
  REDIS_URL: url(["redis:", "rediss:"]),
  DATABASE_URL: url(["postgres:", "postgresql:"]),
  MEMCACHED_URL: optionalText.refine((v) => v === undefined || /^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/.test(v), {
    message: "must be host:port (comma-separated for several servers)",
  }),
  SESSION_CACHE: z.enum(["off", "on"], { message: "must be off or on" }).default("off"),
  SESSION_CACHE_TTL: duration("5s", 100, 60_000),
  DATA_DIR: optionalText,
  TRUST_PROXY: trustProxy,
  // No default here: it depends on NODE_ENV (see cookieSecure below).
  COOKIE_SECURE: z.enum(["auto", "true", "false"], { message: "must be auto, true or false" }).optional(),
  SESSION_IDLE_TIMEOUT: duration("30m", 60_000, 30 * 86_400_000),
  SESSION_ABSOLUTE_TIMEOUT: duration("12h", 60_000, 400 * 86_400_000),
  SESSION_REMEMBER_TIMEOUT: duration("12h", 60_000, 400 * 86_400_000),
  REAUTH_WINDOW: duration("15m", 10_000, 86_400_000),
  ALLOWED_ORIGINS: origins,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt(10, 100),
  LOGIN_MAX_FAILURES_PER_IP: positiveInt(100, 100_000),
  LOGIN_THROTTLE_WINDOW: duration("15m", 1_000, 86_400_000),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
});

/**
 * Validate the environment into a {@link ServerConfig}.
 * @param env usually `process.env`
 * @returns the config, or `{ ok: false, message }` with one line naming the first bad variable
 * @example
 * const result = loadConfig(process.env);
 * if (!result.ok) { console.error(result.message); process.exit(1); }
 */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    return { ok: false, message: `Invalid configuration: ${name} ${issue?.message ?? "is invalid"}` };
  }
  const e = parsed.data;
  // Production never sends the session cookie over plain HTTP (ASVS V3.4.1): without HTTPS (or a trusted proxy saying
  // so) no cookie is set at all. Development defaults to "auto" so http://127.0.0.1 works.
  const cookieSecure = e.COOKIE_SECURE ?? (e.NODE_ENV === "production" ? "true" : "auto");
  const sessionStore: SessionStoreKind = e.SESSION_STORE ?? (e.DATABASE_URL ? "postgres" : "sqlite");
  const needs: Partial<Record<SessionStoreKind, [string, string | undefined]>> = {
    redis: ["REDIS_URL", e.REDIS_URL],
    postgres: ["DATABASE_URL", e.DATABASE_URL],
    memcached: ["MEMCACHED_URL", e.MEMCACHED_URL],
  };
  const need = needs[sessionStore];
  if (need && need[1] === undefined) {
    return { ok: false, message: `Invalid configuration: ${need[0]} is required when SESSION_STORE=${sessionStore}` };
  }
  if (e.SESSION_CACHE === "on" && !CACHEABLE_STORES.includes(sessionStore)) {
    // memory and sqlite live in one process or file already; memcached has no channel to push invalidations on.
    return { ok: false, message: `Invalid configuration: SESSION_CACHE=on needs SESSION_STORE=redis or postgres (it is ${sessionStore}, which has no invalidation channel)` };
  }
  if (e.SESSION_IDLE_TIMEOUT > e.SESSION_ABSOLUTE_TIMEOUT) {
    return { ok: false, message: "Invalid configuration: SESSION_IDLE_TIMEOUT must not exceed SESSION_ABSOLUTE_TIMEOUT" };
  }
  return {
    ok: true,
    config: {
      env: e.NODE_ENV,
      host: e.HOST,
      port: e.PORT,
      sessionSecrets: e.SESSION_SECRETS,
      sessionStore,
      redisUrl: e.REDIS_URL ?? null,
      databaseUrl: e.DATABASE_URL ?? null,
      memcachedUrl: e.MEMCACHED_URL ?? null,
      sessionCache: e.SESSION_CACHE === "on" ? { ttl: e.SESSION_CACHE_TTL } : null,
      dataDir: path.resolve(e.DATA_DIR ?? DEFAULT_DATA_DIR),
      trustProxy: e.TRUST_PROXY,
      cookieSecure: cookieSecure === "auto" ? "auto" : cookieSecure === "true",
      idleTimeout: e.SESSION_IDLE_TIMEOUT,
      absoluteTimeout: e.SESSION_ABSOLUTE_TIMEOUT,
      rememberTimeout: Math.min(e.SESSION_REMEMBER_TIMEOUT, e.SESSION_ABSOLUTE_TIMEOUT),
      reauthWindow: e.REAUTH_WINDOW,
      allowedOrigins: e.ALLOWED_ORIGINS,
      loginMaxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      loginMaxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      loginThrottleWindow: e.LOGIN_THROTTLE_WINDOW,
      logLevel: e.LOG_LEVEL,
    },
  };
}
