import { describe, expect, it } from "vitest";
import { pathnameOf, underPathMatch, underPathPrefix } from "./cookie-path.js";

/** [request target, cookie path, express-session's prefix rule (its "pathname mismatch" check), RFC 6265 path-match (@fastify/session's verifyPath)] */
const CASES: [string, string, boolean, boolean][] = [
  ["/anything", "/", true, true],
  ["http://example.test/anything?x", "/", true, true],
  ["/app", "/app", true, true],
  ["/app/", "/app", true, true],
  ["/app/x/y?z=1", "/app", true, true],
  ["/application", "/app", true, false],
  ["/app.json", "/app", true, false],
  ["/ap", "/app", false, false],
  ["/APP/x", "/app", false, false],
  ["/%61pp/x", "/app", false, false],
  ["/other?next=/app/x", "/app", false, false],
  ["/app", "/app/", false, false],
  ["/app/x", "/app/", true, true],
  ["http://example.test/app/x?y", "/app", true, true],
  ["http://example.test/other", "/app", false, false],
];

describe("the request's path against cookie.path", () => {
  it.each(CASES)("%s under %s: prefix %s, path-match %s", (target, path, prefix, match) => {
    expect(underPathPrefix(target, path)).toBe(prefix);
    expect(underPathMatch(target, path)).toBe(match);
  });

  it("pathnameOf drops the query and reads an absolute-form target's path", () => {
    expect(pathnameOf("/a/b?c=/d")).toBe("/a/b");
    expect(pathnameOf("https://example.test/a%2Fb?c")).toBe("/a%2Fb");
    expect(pathnameOf("*")).toBe("*");
  });
});
