import { describe, expect, it } from "vitest";
import { resolveCookie } from "./cookie.js";
import { SessionCookie, type CookieHost } from "./session-cookie.js";

function host(now = 1_000_000): CookieHost {
  return { cookie: resolveCookie({ name: "sid", secure: false }, false), cookieMaxAge: null, cookieExpiresAt: null, now: () => now };
}

describe("SessionCookie standalone (express-session's new Cookie(options))", () => {
  it("has express-session's defaults: path /, httpOnly, no maxAge, secure and sameSite unset", () => {
    const cookie = new SessionCookie();
    expect(cookie.data).toEqual({
      originalMaxAge: null,
      partitioned: undefined,
      priority: undefined,
      expires: null,
      secure: undefined,
      httpOnly: true,
      domain: undefined,
      path: "/",
      sameSite: undefined,
    });
    expect(cookie.serialize("a", "b")).toBe("a=b; Path=/; HttpOnly");
  });

  it("takes every attribute from its options, maxAge through the setter", () => {
    const cookie = new SessionCookie({ maxAge: 60_000, secure: true, sameSite: "strict", domain: "example.org", partitioned: true, priority: "high", path: "/x", httpOnly: false });
    expect(cookie.originalMaxAge).toBe(60_000);
    expect(cookie.maxAge).toBeGreaterThan(59_000);
    expect(cookie.expires).toBeInstanceOf(Date);
    expect(cookie.toJSON()).toMatchObject({ secure: true, sameSite: "strict", domain: "example.org", partitioned: true, priority: "high", path: "/x", httpOnly: false });
    expect(cookie.serialize("a", "b")).toMatch(/^a=b; Domain=example\.org; Path=\/x; Expires=.*; Secure; Partitioned; Priority=High; SameSite=Strict$/);
  });

  it("throws express-session's TypeErrors for bad options", () => {
    expect(() => new SessionCookie(42 as never)).toThrow("argument options must be a object");
    expect(() => new SessionCookie({ maxAge: "soon" })).toThrow("maxAge must be a number or Date");
  });

  it("ignores a `data` option, as express-session does", () => {
    expect(new SessionCookie({ data: { path: "/nope" } }).path).toBe("/");
  });
});

describe("SessionCookie bound to a session", () => {
  it("maxAge counts down from the expiry; a Date given to maxAge is an expiry", () => {
    const h = host();
    const cookie = SessionCookie.bound(h);
    cookie.maxAge = 10_000;
    expect([h.cookieMaxAge, h.cookieExpiresAt, cookie.maxAge]).toEqual([10_000, 1_010_000, 10_000]);
    cookie.maxAge = new Date(1_005_000);
    expect([h.cookieMaxAge, cookie.expires?.getTime()]).toEqual([5_000, 1_005_000]);
  });

  it("null or false make a browser-session cookie; a non-finite number is an invalid expiry", () => {
    const h = host();
    const cookie = SessionCookie.bound(h);
    cookie.maxAge = 10_000;
    cookie.expires = false;
    expect([cookie.maxAge, cookie.expires, cookie.originalMaxAge]).toEqual([null, null, null]);
    cookie.maxAge = Infinity;
    expect(Number.isNaN(h.cookieExpiresAt)).toBe(true);
    expect(h.cookieMaxAge).toBeNull();
    cookie.expires = new Date(NaN);
    expect(h.cookieMaxAge).toBeNull();
    cookie.maxAge = null;
    expect(h.cookieExpiresAt).toBeNull();
  });

  it("originalMaxAge can be set (express-session's createSession does)", () => {
    const h = host();
    const cookie = SessionCookie.bound(h);
    cookie.originalMaxAge = 1234.9;
    expect(h.cookieMaxAge).toBe(1234);
    cookie.originalMaxAge = null;
    expect(h.cookieMaxAge).toBeNull();
  });

  it("attribute changes apply to this session's cookie only (the shared attributes are copied first)", () => {
    const h = host();
    const shared = h.cookie;
    const cookie = SessionCookie.bound(h);
    cookie.httpOnly = false;
    cookie.secure = true;
    cookie.path = "/app";
    cookie.domain = "example.org";
    cookie.sameSite = true;
    cookie.partitioned = true;
    cookie.priority = "low";
    expect(h.cookie).toMatchObject({ httpOnly: false, secure: true, path: "/app", domain: "example.org", sameSite: "strict", declaredSameSite: true, partitioned: true, priority: "low" });
    expect(shared).toMatchObject({ httpOnly: true, secure: false, path: "/" });
    cookie.domain = undefined;
    cookie.priority = undefined;
    cookie.sameSite = false;
    expect("domain" in h.cookie || "priority" in h.cookie || "sameSite" in h.cookie).toBe(false);
    expect([cookie.secure, cookie.sameSite, cookie.partitioned]).toEqual([true, false, true]);
  });
});
