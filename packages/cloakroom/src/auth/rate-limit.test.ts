import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitBackends, sleep, type OpenedBackend } from "./backends.test-helper.js";
import { ipRateLimitKey } from "./ip-key.js";
import { createRateLimit, type RateLimitOptions } from "./rate-limit.js";

const fixtures = await rateLimitBackends();

for (const fixture of fixtures) {
  describe.skipIf(!fixture.available)(`createRateLimit on ${fixture.name}`, () => {
    let opened: OpenedBackend;
    let serial = 0;
    beforeAll(async () => {
      opened = await fixture.open();
    });
    afterAll(async () => {
      await opened?.close();
    });

    const limit = (options: Partial<RateLimitOptions> = {}): ReturnType<typeof createRateLimit> =>
      createRateLimit({ backend: opened.backend, keyPrefix: `${opened.keyPrefix}:${serial++}`, points: 100, duration: 60, ...options });

    it("answers 429-worthy after a spray of 1,000 random session tickets from one IP", async () => {
      const invalidTickets = limit();
      const key = ipRateLimitKey("203.0.113.50");
      let allowed = 0;
      let last;
      // Each request carries a random ticket that names no session: the server consumes one point per such request.
      for (let i = 0; i < 1000; i += 1) {
        last = await invalidTickets.consume(key);
        if (last.allowed) allowed += 1;
      }
      expect(allowed).toBe(100);
      expect(last).toMatchObject({ allowed: false });
      if (last && !last.allowed) {
        expect(last.retryAfterSeconds).toBeGreaterThan(0);
        expect(last.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
      // Other clients are unaffected.
      expect(await invalidTickets.consume(ipRateLimitKey("203.0.113.51"))).toEqual({ allowed: true, remaining: 99 });
    });

    it("reports the remaining budget and forgets a key on reset", async () => {
      const l = limit({ points: 2 });
      expect(await l.consume("k")).toEqual({ allowed: true, remaining: 1 });
      expect(await l.consume("k")).toEqual({ allowed: true, remaining: 0 });
      expect((await l.consume("k")).allowed).toBe(false);
      await l.reset("k");
      expect(await l.consume("k")).toEqual({ allowed: true, remaining: 1 });
    });

    it("keeps refusing for blockDuration once over the limit, then recovers", async () => {
      const l = limit({ points: 1, duration: 1, blockDuration: 2 });
      await l.consume("k");
      const refused = await l.consume("k");
      expect(refused).toEqual({ allowed: false, retryAfterSeconds: 2 });
      await sleep(1200); // past the window, still inside the block
      expect((await l.consume("k")).allowed).toBe(false);
      await sleep(1000);
      expect((await l.consume("k")).allowed).toBe(true);
    });

    it("stores keys as SHA-256 digests", async () => {
      await limit().consume("203.0.113.99");
      const keys = await opened.storedKeys();
      if (keys === null) return;
      expect(keys.some((k) => k.includes("203.0.113"))).toBe(false);
      expect(keys.every((k) => /:[A-Za-z0-9_-]{43}$/.test(k))).toBe(true);
    });
  });
}

describe("createRateLimit configuration", () => {
  it("names the bad option in a TypeError", () => {
    const backend = { type: "memory" } as const;
    expect(() => createRateLimit({ backend, points: -1, duration: 60 })).toThrow(/options\.points option/);
    expect(() => createRateLimit({ backend, points: 1, duration: Number.NaN })).toThrow(/options\.duration option/);
    expect(() => createRateLimit({ backend, points: 1, duration: 1, blockDuration: -5 })).toThrow(/blockDuration option/);
    expect(() => createRateLimit({ backend: undefined as never, points: 1, duration: 1 })).toThrow(/backend option/);
    expect(() => createRateLimit({ backend: { type: "postgres", pool: {} as never }, points: 1, duration: 1 })).toThrow(/backend\.pool/);
  });
});
