import { describe, expect, it } from "vitest";
import { DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, isLive, resolveTimeoutPolicy, shouldTouch, slideIdleExpiry } from "./timeouts.js";

describe("resolveTimeoutPolicy()", () => {
  it("defaults to 30 min idle, 12 h absolute, 60 s touch window", () => {
    expect(resolveTimeoutPolicy({}, null)).toEqual({ idleTimeout: DEFAULT_IDLE_TIMEOUT, absoluteTimeout: DEFAULT_ABSOLUTE_TIMEOUT, touchAfter: 60_000 });
  });
  it("takes express-session's cookie.maxAge as the idle timeout and stretches the absolute one to it", () => {
    const week = 7 * 24 * 3600_000;
    expect(resolveTimeoutPolicy({}, week)).toMatchObject({ idleTimeout: week, absoluteTimeout: week });
  });
  it("keeps touchAfter below half a short idle timeout", () => {
    expect(resolveTimeoutPolicy({ idleTimeout: 10_000 }, null).touchAfter).toBe(5_000);
  });
  it.each([
    [{ idleTimeout: 0 }, /idleTimeout/],
    [{ idleTimeout: 1.5 }, /idleTimeout/],
    [{ absoluteTimeout: -1 }, /absoluteTimeout/],
    [{ idleTimeout: 1000, touchAfter: 1000 }, /touchAfter/],
  ])("refuses %j naming the option", (options, message) => {
    expect(() => resolveTimeoutPolicy(options, null)).toThrow(message);
  });
});

describe("expiry rules", () => {
  const policy = resolveTimeoutPolicy({ idleTimeout: 1000, absoluteTimeout: 5000, touchAfter: 100 }, null);
  it("a record is live strictly before both expiries", () => {
    expect(isLive({ idleExpiresAt: 10, absoluteExpiresAt: 20 }, 9)).toBe(true);
    expect(isLive({ idleExpiresAt: 10, absoluteExpiresAt: 20 }, 10)).toBe(false);
    expect(isLive({ idleExpiresAt: 30, absoluteExpiresAt: 20 }, 20)).toBe(false);
  });
  it("sliding never passes the absolute expiry", () => {
    expect(slideIdleExpiry({ absoluteExpiresAt: 5000, cookieMaxAge: null }, 0, policy)).toBe(1000);
    expect(slideIdleExpiry({ absoluteExpiresAt: 5000, cookieMaxAge: null }, 4500, policy)).toBe(5000);
    expect(slideIdleExpiry({ absoluteExpiresAt: 5000, cookieMaxAge: 3000 }, 0, policy)).toBe(3000);
  });
  it("touches only once touchAfter has passed", () => {
    expect(shouldTouch({ touchedAt: 0 }, 99, policy)).toBe(false);
    expect(shouldTouch({ touchedAt: 0 }, 100, policy)).toBe(true);
  });
});
