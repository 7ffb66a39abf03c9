import Database from "better-sqlite3";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rateLimitBackends, sleep, type OpenedBackend } from "./backends.test-helper.js";
import { createLoginThrottle, type LoginThrottleOptions } from "./throttle.js";

const fixtures = await rateLimitBackends();
let ipCounter = 0;
/** A fresh IPv4 address per call: the attacker rotates addresses. */
const nextIp = (): string => `198.51.${(ipCounter >> 8) & 0xff}.${ipCounter++ & 0xff}`;

for (const fixture of fixtures) {
  describe.skipIf(!fixture.available)(`createLoginThrottle on ${fixture.name}`, () => {
    let opened: OpenedBackend;
    let serial = 0;
    beforeAll(async () => {
      opened = await fixture.open();
    });
    afterAll(async () => {
      await opened?.close();
    });

    /** A throttle with its own key namespace, so tests never see each other's counts. */
    const throttle = (options: Partial<LoginThrottleOptions> = {}): ReturnType<typeof createLoginThrottle> =>
      createLoginThrottle({
        backend: opened.backend,
        keyPrefix: `${opened.keyPrefix}:${serial++}`,
        perAccount: { points: 3, duration: 5 },
        perIp: { points: 5, duration: 5 },
        consecutiveFailures: false,
        ...options,
      });

    it("uses the requested backend", () => {
      expect(throttle().backend).toBe(fixture.name);
    });

    it("blocks an account after N failures even when every attempt comes from a new IP", async () => {
      const t = throttle();
      for (let i = 0; i < 3; i += 1) {
        const attempt = { ip: nextIp(), account: "victim@example.com" };
        expect(await t.check(attempt)).toEqual({ allowed: true });
        await t.recordFailure(attempt);
      }
      const refused = await t.check({ ip: nextIp(), account: "victim@example.com" });
      expect(refused.allowed).toBe(false);
      if (!refused.allowed) {
        expect(refused.retryAfterSeconds).toBeGreaterThan(0);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(5);
      }
      // Another account is not affected.
      expect(await t.check({ ip: nextIp(), account: "bystander@example.com" })).toEqual({ allowed: true });
    });

    it("counts every spelling of one email as one account", async () => {
      const t = throttle();
      for (const account of ["Victim@Example.com", " victim@example.com", "VICTIM@EXAMPLE.COM"]) {
        expect((await t.check({ ip: nextIp(), account })).allowed).toBe(true);
      }
      expect((await t.check({ ip: nextIp(), account: "victim＠example.com" })).allowed).toBe(false);
    });

    it("holds the per-IP limit across accounts, and per /64 for IPv6", async () => {
      const t = throttle();
      for (let i = 0; i < 5; i += 1) {
        expect((await t.check({ ip: "203.0.113.7", account: `user${i}@example.com` })).allowed).toBe(true);
      }
      expect((await t.check({ ip: "203.0.113.7", account: "fresh@example.com" })).allowed).toBe(false);
      expect((await t.check({ ip: "203.0.113.8", account: "fresh@example.com" })).allowed).toBe(true);

      for (let i = 1; i <= 5; i += 1) {
        expect((await t.check({ ip: `2001:db8:1:2::${i}`, account: `v6-${i}@example.com` })).allowed).toBe(true);
      }
      expect((await t.check({ ip: "2001:db8:1:2:abcd::99", account: "v6-x@example.com" })).allowed).toBe(false);
    });

    it("counts parallel attempts atomically: a burst cannot exceed the limit", async () => {
      const t = throttle();
      const decisions = await Promise.all(
        Array.from({ length: 20 }, () => t.check({ ip: nextIp(), account: "burst@example.com" })),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    });

    it("resets the account counter on success", async () => {
      const t = throttle();
      // 12 attempts on a 3-attempt budget: allowed only because each success starts the account afresh.
      for (let round = 0; round < 4; round += 1) {
        for (let i = 0; i < 2; i += 1) {
          const attempt = { ip: nextIp(), account: "forgetful@example.com" };
          expect((await t.check(attempt)).allowed).toBe(true);
          await t.recordFailure(attempt);
        }
        const attempt = { ip: nextIp(), account: "forgetful@example.com" };
        expect((await t.check(attempt)).allowed).toBe(true);
        await t.recordSuccess(attempt);
      }
    });

    it("does not spend an IP's budget on successful logins, only on failures", async () => {
      const t = throttle();
      const office = nextIp();
      for (let i = 0; i < 8; i += 1) {
        const attempt = { ip: office, account: `colleague${i}@example.com` };
        expect((await t.check(attempt)).allowed).toBe(true);
        await t.recordSuccess(attempt);
      }
      for (let i = 0; i < 5; i += 1) {
        const attempt = { ip: office, account: `typo${i}@example.com` };
        expect((await t.check(attempt)).allowed).toBe(true);
        await t.recordFailure(attempt);
      }
      expect((await t.check({ ip: office, account: "one-more@example.com" })).allowed).toBe(false);
    });

    it("lets the legitimate user in again once the window has passed", async () => {
      const t = throttle({ perAccount: { points: 2, duration: 1 } });
      for (let i = 0; i < 2; i += 1) {
        const attempt = { ip: nextIp(), account: "patient@example.com" };
        await t.check(attempt);
        await t.recordFailure(attempt);
      }
      const refused = await t.check({ ip: nextIp(), account: "patient@example.com" });
      expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
      await sleep(1200);
      expect(await t.check({ ip: nextIp(), account: "patient@example.com" })).toEqual({ allowed: true });
    });

    it("caps consecutive failures (recordFailure counts, check alone does not) until resetAccount", async () => {
      const t = throttle({ perAccount: { points: 50, duration: 5 }, perIp: { points: 50, duration: 5 }, consecutiveFailures: { points: 4, duration: 60 } });
      const attempt = (): { ip: string; account: string } => ({ ip: nextIp(), account: "capped@example.com" });
      for (let i = 0; i < 6; i += 1) expect((await t.check(attempt())).allowed).toBe(true);
      for (let i = 0; i < 4; i += 1) await t.recordFailure(attempt());
      const refused = await t.check(attempt());
      expect(refused.allowed).toBe(false);
      if (!refused.allowed) expect(refused.retryAfterSeconds).toBeGreaterThan(50);
      await t.resetAccount("Capped@Example.com");
      expect((await t.check(attempt())).allowed).toBe(true);
    });

    it("resets the consecutive-failure count on success", async () => {
      const t = throttle({ perAccount: { points: 50, duration: 5 }, consecutiveFailures: { points: 3, duration: 60 } });
      const attempt = { ip: nextIp(), account: "mixed@example.com" };
      for (let i = 0; i < 2; i += 1) await t.recordFailure(attempt);
      await t.recordSuccess(attempt);
      for (let i = 0; i < 2; i += 1) await t.recordFailure(attempt);
      expect((await t.check(attempt)).allowed).toBe(true);
    });

    it("stores only hashed keys: no email or IP in clear", async () => {
      const t = throttle();
      await t.check({ ip: "192.0.2.55", account: "secret.person@example.com" });
      await t.recordFailure({ ip: "192.0.2.55", account: "secret.person@example.com" });
      const keys = await opened.storedKeys();
      if (keys === null) return; // memory: nothing leaves the process
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toMatch(/secret|example|192\.0\.2/);
        expect(key).toMatch(/:[A-Za-z0-9_-]{43}$/);
      }
    });
  });
}

describe("createLoginThrottle failures and configuration", () => {
  it("propagates a backend failure as an Error with the cause (SQLite closed)", async () => {
    const database = new Database(":memory:");
    const t = createLoginThrottle({ backend: { type: "sqlite", database } });
    await t.check({ ip: "192.0.2.1", account: "a@example.com" });
    database.close();
    const error = await t.check({ ip: "192.0.2.1", account: "a@example.com" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/rate-limit backend failed/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("propagates a backend failure as an Error with the cause (Redis unreachable)", async () => {
    const client = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const t = createLoginThrottle({ backend: { type: "redis", client } });
    const error = await t.check({ ip: "192.0.2.1", account: "a@example.com" }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/rate-limit backend failed/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    client.disconnect();
  });

  it("names the bad option in a TypeError", () => {
    const backend = { type: "memory" } as const;
    expect(() => createLoginThrottle({ backend, perAccount: { points: 0, duration: 60 } })).toThrow(/perAccount\.points option/);
    expect(() => createLoginThrottle({ backend, perIp: { points: 5, duration: 0.5 } })).toThrow(/perIp\.duration option/);
    expect(() => createLoginThrottle({ backend, keyPrefix: "" })).toThrow(/keyPrefix option/);
    expect(() => createLoginThrottle({ backend: { type: "mongo" } as never })).toThrow(/backend option/);
    expect(() => createLoginThrottle({ backend: { type: "redis", client: {} as never } })).toThrow(/backend\.client/);
    const database = new Database(":memory:");
    expect(() => createLoginThrottle({ backend: { type: "sqlite", database, tableName: "x; DROP TABLE users" } })).toThrow(
      /backend\.tableName option/,
    );
    database.close();
  });

  it("refuses a malformed attempt with a TypeError", async () => {
    const t = createLoginThrottle({ backend: { type: "memory" } });
    await expect(t.check({ ip: undefined as never, account: "a@example.com" })).rejects.toThrow(/attempt\.ip/);
    await expect(t.check({ ip: "192.0.2.1", account: ["a"] as never })).rejects.toThrow(/attempt\.account/);
  });

  it("falls back to memory, with a process warning, on a memcached backend", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const client = { get() {}, set() {}, add() {}, incr() {}, delete() {} };
    const t = createLoginThrottle({ backend: { type: "memcached", client }, perAccount: { points: 1, duration: 5 } });
    expect(t.backend).toBe("memory");
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/memcached backend fall back to process memory/), expect.objectContaining({ code: "CLOAKROOM_RATE_LIMIT_FALLBACK" }));
    expect((await t.check({ ip: "192.0.2.1", account: "m@example.com" })).allowed).toBe(true);
    expect((await t.check({ ip: "192.0.2.2", account: "m@example.com" })).allowed).toBe(false);
    warn.mockRestore();
  });
});
