import { describe, expect, it } from "vitest";
import { checkOrigin, createCsrfToken, verifyCsrfToken, type OriginCheckRequest } from "./csrf.js";

const options = { allowedOrigins: ["https://app.example.org", "http://localhost:3000"] };
const post = (headers: OriginCheckRequest["headers"]): OriginCheckRequest => ({ method: "POST", headers });

describe("checkOrigin", () => {
  it.each(["GET", "HEAD", "OPTIONS"])("lets %s through with no headers at all", (method) => {
    expect(checkOrigin({ method, headers: { origin: "https://evil.example" } }, options)).toEqual({ ok: true });
  });

  it.each(["POST", "PUT", "PATCH", "DELETE", "get", "PROPFIND"])("checks %s", (method) => {
    expect(checkOrigin({ method, headers: {} }, options)).toMatchObject({ ok: false });
  });

  describe("with Sec-Fetch-Site", () => {
    it("accepts same-origin and none (a navigation the user started)", () => {
      expect(checkOrigin(post({ "sec-fetch-site": "same-origin" }), options)).toEqual({ ok: true });
      expect(checkOrigin(post({ "sec-fetch-site": "none" }), options)).toEqual({ ok: true });
    });

    it("refuses cross-site, same-site (a sibling subdomain) and unknown values", () => {
      for (const site of ["cross-site", "same-site", "Same-Origin", "bogus"]) {
        expect(checkOrigin(post({ "sec-fetch-site": site, origin: "https://app.example.org" }), options)).toMatchObject({ ok: false });
      }
    });

    it("still refuses a same-origin request whose Origin is not allowed (DNS rebinding, wrong host)", () => {
      const req = post({ "sec-fetch-site": "same-origin", origin: "http://rebound.evil.example" });
      expect(checkOrigin(req, options)).toMatchObject({ ok: false });
    });

    it("takes precedence over an allowed Origin", () => {
      const req = post({ "sec-fetch-site": "cross-site", origin: "https://app.example.org" });
      expect(checkOrigin(req, options)).toMatchObject({ ok: false, reason: "Sec-Fetch-Site is cross-site" });
    });
  });

  describe("with Origin only", () => {
    it("accepts each allowed origin exactly", () => {
      expect(checkOrigin(post({ origin: "https://app.example.org" }), options)).toEqual({ ok: true });
      expect(checkOrigin(post({ origin: "http://localhost:3000" }), options)).toEqual({ ok: true });
    });

    it.each([
      "null",
      "https://app.example.org.evil.com",
      "https://evil.app.example.org",
      "https://app.example.org:8443",
      "http://app.example.org",
      "https://example.org",
      "https://app.example.org/",
      "https://APP.EXAMPLE.ORG",
      "http://localhost:3001",
      "",
    ])("refuses %j", (origin) => {
      expect(checkOrigin(post({ origin }), options)).toMatchObject({ ok: false });
    });
  });

  describe("with Referer only", () => {
    it("accepts a page of an allowed origin", () => {
      expect(checkOrigin(post({ referer: "https://app.example.org/settings?tab=1" }), options)).toEqual({ ok: true });
    });

    it.each(["https://app.example.org.evil.com/", "https://app.example.org:444/x", "not a url", "about:blank"])("refuses %j", (referer) => {
      expect(checkOrigin(post({ referer }), options)).toMatchObject({ ok: false });
    });
  });

  it("refuses a request with neither Sec-Fetch-Site, Origin nor Referer", () => {
    expect(checkOrigin(post({ cookie: "sid=abc" }), options)).toEqual({
      ok: false,
      reason: "no Sec-Fetch-Site, Origin or Referer header",
    });
  });

  it("refuses duplicated headers instead of picking one", () => {
    expect(checkOrigin(post({ origin: ["https://evil.example", "https://app.example.org"] }), options)).toMatchObject({ ok: false });
    expect(checkOrigin(post({ "sec-fetch-site": ["same-origin", "cross-site"] }), options)).toMatchObject({ ok: false });
  });

  it("ignores method-override headers: the method is the method", () => {
    const req = post({ "x-http-method-override": "GET", "x-method-override": "GET", origin: "https://evil.example" });
    expect(checkOrigin(req, options)).toMatchObject({ ok: false });
  });

  it("refuses configurations that are not exact serialized origins, naming the option", () => {
    for (const allowedOrigins of [[], ["https://app.example.org/"], ["app.example.org"], ["https://app.example.org:443"], ["*"]]) {
      expect(() => checkOrigin(post({}), { allowedOrigins })).toThrow(/allowedOrigins option/);
    }
  });
});

describe("createCsrfToken", () => {
  it("makes 32 random bytes, base64url", () => {
    const token = createCsrfToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(new Set(Array.from({ length: 100 }, createCsrfToken)).size).toBe(100);
  });
});

describe("verifyCsrfToken", () => {
  const token = createCsrfToken();

  it("accepts the identical token", () => {
    expect(verifyCsrfToken(token, `${token}`)).toBe(true);
  });

  it("refuses a token differing in one character, a prefix, or an extension", () => {
    const flipped = (token[0] === "A" ? "B" : "A") + token.slice(1);
    expect(verifyCsrfToken(token, flipped)).toBe(false);
    expect(verifyCsrfToken(token, token.slice(0, -1))).toBe(false);
    expect(verifyCsrfToken(token, `${token}A`)).toBe(false);
  });

  it.each([undefined, null, "", 42, [token], { toString: () => token }])("refuses the submitted value %j", (actual) => {
    expect(verifyCsrfToken(token, actual)).toBe(false);
  });

  it("refuses everything when the session holds no token", () => {
    expect(verifyCsrfToken(undefined, undefined)).toBe(false);
    expect(verifyCsrfToken("", "")).toBe(false);
    expect(verifyCsrfToken(null, "null")).toBe(false);
  });

  it("compares equal-length buffers with crypto.timingSafeEqual even when multibyte characters are involved", () => {
    // "é" is two bytes: a naive string-length check would pass these to timingSafeEqual with unequal byte lengths.
    expect(verifyCsrfToken("é".repeat(4), "e".repeat(4))).toBe(false);
  });
});
