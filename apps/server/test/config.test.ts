import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTING_VARIABLES, loadConfig, type ServerConfig } from "../src/config.js";
import { resolveSessionSecrets } from "../src/secrets.js";

describe("loadConfig", () => {
  it("defaults: 127.0.0.1:3000, SQLite, 30 min idle, 12 h absolute, no proxy trusted", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({ host: "127.0.0.1", port: 3000, session: { store: "sqlite" }, idleTimeout: 1_800_000, absoluteTimeout: 43_200_000, trustProxy: false, cookieSecure: "auto" });
    expect(result.config.dataDir).toMatch(/apps\/server\/\.data$/);
  });

  it("COOKIE_SECURE defaults to true in production and auto otherwise; an explicit value wins", () => {
    const secure = (env: Record<string, string>) => {
      const result = loadConfig(env);
      return result.ok ? result.config.cookieSecure : result.message;
    };
    expect(secure({ NODE_ENV: "production", SESSION_SECRETS: "p".repeat(40) })).toBe(true);
    expect(secure({ NODE_ENV: "development" })).toBe("auto");
    expect(secure({ NODE_ENV: "production", SESSION_SECRETS: "p".repeat(40), COOKIE_SECURE: "auto" })).toBe("auto");
    expect(secure({ COOKIE_SECURE: "false" })).toBe(false);
  });

  it("DATABASE_URL alone moves users and sessions to PostgreSQL", () => {
    const result = loadConfig({ DATABASE_URL: "postgres://u@localhost/db" });
    expect(result.ok && result.config.session).toEqual({ store: "postgres", databaseUrl: "postgres://u@localhost/db", cache: null });
  });

  it.each([
    [{ PORT: "http" }, "PORT must be a port number"],
    [{ SESSION_STORE: "mongo" }, "SESSION_STORE must be one of memory, sqlite, redis, postgres, memcached"],
    [{ SESSION_STORE: "redis" }, "REDIS_URL is required when SESSION_STORE=redis"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL must be a URL starting with redis:// or rediss://"],
    [{ SESSION_SECRETS: "short" }, "SESSION_SECRETS must be a comma-separated list of secrets, each at least 32 characters"],
    [{ SESSION_IDLE_TIMEOUT: "30" }, "SESSION_IDLE_TIMEOUT must be a duration like 30m"],
    [{ SESSION_IDLE_TIMEOUT: "13h" }, "SESSION_IDLE_TIMEOUT must not exceed SESSION_ABSOLUTE_TIMEOUT"],
    [{ TRUST_PROXY: "everyone" }, "TRUST_PROXY must be false, true, a hop count"],
    [{ ALLOWED_ORIGINS: "https://a.example/path" }, "ALLOWED_ORIGINS must be a comma-separated list of origins"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of"],
    [{ NODE_ENV: "staging" }, "NODE_ENV"],
    [{ PUBLIC_URL: "https://auth.example.com/app" }, "PUBLIC_URL must be an origin like https://auth.example.com"],
    [{ SMTP_URL: "http://mail.example.com" }, "SMTP_URL must be a URL starting with smtp:// or smtps://"],
    [{ MAIL_FROM: "nobody" }, "MAIL_FROM must be an address like no-reply@example.com"],
    [{ PASSWORD_RESET_TTL: "10s" }, "PASSWORD_RESET_TTL must be a duration like 30m, 12h or 900s (between 1m and 1d)"],
    [{ EMAIL_VERIFICATION: "yes" }, "EMAIL_VERIFICATION must be off or required"],
    [{ MAIL_MAX_PER_ACCOUNT: "0" }, "MAIL_MAX_PER_ACCOUNT must be a whole number from 1 to 1000"],
  ])("%o → one line naming the variable", (env, message) => {
    const result = loadConfig(env as Record<string, string>);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain(message);
    expect(result.message).not.toContain("\n");
  });
});

describe("settings declared once", () => {
  it("names one variable per setting, each variable once", () => {
    const names = [...SETTING_VARIABLES.values()];
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^[A-Z][A-Z0-9_]+$/.test(n))).toBe(true);
    expect(SETTING_VARIABLES.get("passwordResetTtl")).toBe("PASSWORD_RESET_TTL");
  });

  it("store-specific settings are a union: the URL a store needs is a string in its variant", () => {
    const result = loadConfig({ SESSION_STORE: "redis", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(result.ok).toBe(true);
    const session: ServerConfig["session"] | null = result.ok ? result.config.session : null;
    // Checked by the type-check: no cast, the variant carries redisUrl as a string.
    const redisUrl: string | null = session?.store === "redis" ? session.redisUrl : null;
    expect(redisUrl).toBe("redis://127.0.0.1:6379");
    expect(loadConfig({ SESSION_STORE: "memcached" })).toEqual({ ok: false, message: "Invalid configuration: MEMCACHED_URL is required when SESSION_STORE=memcached" });
  });

  it("mail and recovery defaults: outbox, PUBLIC_URL from the listening address (localhost for loopback), 30 min reset links, verification off", () => {
    const result = loadConfig({ PORT: "4000" });
    expect(result.ok && result.config).toMatchObject({
      publicUrl: "http://localhost:4000",
      smtpUrl: null,
      mailFrom: "Cloakroom <no-reply@localhost>",
      passwordResetTtl: 30 * 60_000,
      emailVerification: "off",
      mailMaxPerAccount: 5,
      mailMaxPerIp: 50,
      mailThrottleWindow: 3_600_000,
    });
    const set = loadConfig({ HOST: "auth.internal", PUBLIC_URL: "https://auth.example.com", SMTP_URL: "smtps://u:p@mail.example.com:465" });
    expect(set.ok && set.config).toMatchObject({ publicUrl: "https://auth.example.com", mailFrom: "Cloakroom <no-reply@auth.example.com>", smtpUrl: "smtps://u:p@mail.example.com:465" });
    const named = loadConfig({ HOST: "auth.internal" });
    expect(named.ok && named.config.publicUrl).toBe("http://auth.internal:3000");
  });
});

describe("resolveSessionSecrets", () => {
  const dir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-secrets-"));

  it("development without SESSION_SECRETS: generates a secret once (mode 0600) and reuses it", () => {
    const dataDir = dir();
    const first = resolveSessionSecrets({ env: "development", sessionSecrets: null, dataDir });
    expect(first).toMatchObject({ ok: true, generated: true, source: "file" });
    const second = resolveSessionSecrets({ env: "development", sessionSecrets: null, dataDir });
    expect(second).toMatchObject({ ok: true, generated: false });
    expect(first.ok && second.ok && first.secrets[0] === second.secrets[0]).toBe(true);
    expect(fs.statSync(path.join(dataDir, "session-secret")).mode & 0o777).toBe(0o600);
  });

  it("production without SESSION_SECRETS refuses to start", () => {
    const result = resolveSessionSecrets({ env: "production", sessionSecrets: null, dataDir: dir() });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain("SESSION_SECRETS is required when NODE_ENV=production");
  });

  it("SESSION_SECRETS wins, first signs", () => {
    const result = resolveSessionSecrets({ env: "production", sessionSecrets: ["a".repeat(32), "b".repeat(32)], dataDir: dir() });
    expect(result).toMatchObject({ ok: true, source: "env", secrets: ["a".repeat(32), "b".repeat(32)] });
  });
});
