import { describe, expect, it } from "vitest";
import { cookieAllowed, readCookieValues, resolveCookie, serializeClearingCookie, serializeSessionCookie, type CookieOptions } from "./cookie.js";

/** The attributes for a request, or null when it may not carry the cookie. */
function allowedCookie(options: CookieOptions, secure: boolean) {
  const cookie = resolveCookie(options, secure);
  return cookieAllowed(cookie, secure) ? cookie : null;
}

describe("resolveCookie()", () => {
  it("defaults to __Host-sid, HttpOnly, SameSite=Lax, Secure and Path=/ over HTTPS", () => {
    expect(resolveCookie({}, true)).toEqual({ name: "__Host-sid", declaredSameSite: "lax", path: "/", httpOnly: true, secure: true, partitioned: false, sameSite: "lax" });
  });
  it("uses sid without Secure over plain HTTP", () => {
    expect(resolveCookie({}, false)).toMatchObject({ name: "sid", secure: false, httpOnly: true, sameSite: "lax" });
  });
  it("uses __Secure- when a Domain or a narrower Path rules out __Host-", () => {
    expect(resolveCookie({ domain: "example.org" }, true)?.name).toBe("__Secure-sid");
    expect(resolveCookie({ path: "/app" }, true)?.name).toBe("__Secure-sid");
  });
  it("refuses to set a Secure cookie over HTTP (secure: true)", () => {
    expect(allowedCookie({ secure: true }, false)).toBeNull();
  });
  it("refuses a __Host- name that breaks the prefix rules", () => {
    expect(allowedCookie({ name: "__Host-x" }, false)).toBeNull();
    expect(allowedCookie({ name: "__HOST-x", path: "/a" }, true)).toBeNull();
    expect(allowedCookie({ name: "__Secure-x" }, false)).toBeNull();
    expect(allowedCookie({ name: "__Host-x" }, true)).not.toBeNull();
  });
  it("maps express-session's sameSite values", () => {
    expect(resolveCookie({ sameSite: true }, true)?.sameSite).toBe("strict");
    expect(resolveCookie({ sameSite: false }, true)?.sameSite).toBeUndefined();
    expect(resolveCookie({ sameSite: "auto" }, true)?.sameSite).toBe("none");
    expect(resolveCookie({ sameSite: "auto" }, false)?.sameSite).toBe("lax");
    expect(resolveCookie({ sameSite: "strict" }, false)?.sameSite).toBe("strict");
  });
  it("keeps sameSite as express-session shows it in req.session.cookie (the option, 'auto' settled)", () => {
    expect(resolveCookie({ sameSite: false }, true).declaredSameSite).toBe(false);
    expect(resolveCookie({ sameSite: true }, true).declaredSameSite).toBe(true);
    expect(resolveCookie({ sameSite: "auto" }, true).declaredSameSite).toBe("none");
    expect(resolveCookie({}, false).declaredSameSite).toBe("lax");
  });
  it("keeps a custom name, domain and priority", () => {
    expect(resolveCookie({ name: "connect.sid", secure: false, priority: "high" }, true)).toMatchObject({ name: "connect.sid", secure: false, priority: "high" });
  });
});

describe("readCookieValues()", () => {
  it("returns every value of the exact name, in order", () => {
    expect(readCookieValues("a=1; sid=A; b=2; sid=B", "sid")).toEqual(["A", "B"]);
  });
  it("does not treat case variants or prefixes as the name", () => {
    expect(readCookieValues("__HOST-sid=x; __host-sid=y; xsid=z; sidx=w", "__Host-sid")).toEqual([]);
  });
  it("percent-decodes, and keeps a value with bad percent-encoding as it is (it can never verify)", () => {
    expect(readCookieValues("sid=s%3Aabc.def; sid=%E0%A4%A", "sid")).toEqual(["s:abc.def", "%E0%A4%A"]);
  });
  it("handles quoted values, missing '=', empty values and no header", () => {
    expect(readCookieValues('sid="q"', "sid")).toEqual(["q"]);
    expect(readCookieValues("sid; other=1", "sid")).toEqual([]);
    expect(readCookieValues("sid=", "sid")).toEqual([""]);
    expect(readCookieValues(undefined, "sid")).toEqual([]);
  });
  it("reads many cookies", () => {
    const header = Array.from({ length: 200 }, (_, i) => `c${i}=${i}`).join("; ") + "; sid=last";
    expect(readCookieValues(header, "sid")).toEqual(["last"]);
  });
});

describe("serializeSessionCookie()", () => {
  const cookie = resolveCookie({}, true)!;
  it("writes a browser-session cookie with every attribute", () => {
    expect(serializeSessionCookie(cookie, "s:abc.def", { maxAgeMs: null, now: 0 })).toBe("__Host-sid=s%3Aabc.def; Path=/; HttpOnly; Secure; SameSite=Lax");
  });
  it("writes Max-Age in seconds and Expires for a persistent cookie", () => {
    const line = serializeSessionCookie(cookie, "v", { maxAgeMs: 90_500, now: Date.UTC(2026, 0, 1) });
    expect(line).toContain("Max-Age=90;");
    expect(line).toContain("Expires=Thu, 01 Jan 2026 00:01:30 GMT");
  });
  it("clears with Max-Age=0 and a past Expires", () => {
    expect(serializeClearingCookie(cookie)).toBe("__Host-sid=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax");
  });
});
