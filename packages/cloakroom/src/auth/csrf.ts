/**
 * CSRF defences (OWASP CSRF Prevention CS; ASVS 5.0 V3.5): an Origin / Fetch-Metadata check on every state-changing
 * request, and a random token for HTML forms, compared in constant time.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** The parts of a request the origin check reads (Node's `IncomingMessage` fits: header names in lower case). */
export interface OriginCheckRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Options of {@link checkOrigin}. */
export interface OriginCheckOptions {
  /** Exact serialized origins the app is served from, e.g. `["https://app.example.org"]` — scheme, host, port. */
  allowedOrigins: string[];
}

/** The answer of {@link checkOrigin}; `reason` is for logs, not for the client. */
export type OriginCheckResult = { ok: true } | { ok: false; reason: string };

// RFC 9110 §9.2.1 safe methods. Exact, case-sensitive match: "get" is not GET, so it gets checked.
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const TOKEN_BYTES = 32;

/**
 * Decide whether a request may change state, from where the browser says it comes. Safe methods always pass. For the
 * others, in order:
 * 1. `Sec-Fetch-Site` present: it must be `same-origin` (and then an `Origin` header, if also present, must still be
 *    allowed, which also defeats DNS rebinding) or `none` (a navigation the user started). `same-site` is refused:
 *    a sibling subdomain is another origin.
 * 2. Otherwise `Origin` must equal one of `allowedOrigins` exactly (`null`, a look-alike suffix such as
 *    `https://app.example.org.evil.com`, or another port are refused).
 * 3. Otherwise the origin of `Referer` must be allowed.
 * 4. None of the three: refused, as the OWASP CSRF CS recommends.
 *
 * Only `req.method` is read: `X-HTTP-Method-Override` headers and `_method` fields are ignored, so they cannot turn a
 * POST into a "GET" that skips the check (SECURITY-CHECKLIST §5.8). Keep the session-bound form token as well.
 *
 * @param req The request: its method and headers.
 * @param options `{ allowedOrigins }`.
 * @returns `{ ok: true }` or `{ ok: false, reason }`; answer the latter with 403.
 * @throws {TypeError} When `allowedOrigins` is empty or holds something that is not a serialized origin.
 * @example
 * const verdict = checkOrigin(req, { allowedOrigins: ["https://app.example.org"] });
 * if (!verdict.ok) return res.status(403).send("Forbidden");
 */
export function checkOrigin(req: OriginCheckRequest, options: OriginCheckOptions): OriginCheckResult {
  const allowed = allowedSet(options?.allowedOrigins);
  if (SAFE_METHODS.has(req.method)) return { ok: true };

  const site = singleHeader(req.headers, "sec-fetch-site");
  const origin = singleHeader(req.headers, "origin");
  if (site === null || origin === null) return refuse("duplicated Sec-Fetch-Site or Origin header");
  if (site !== undefined) {
    if (site === "none") return { ok: true };
    if (site !== "same-origin") return refuse(`Sec-Fetch-Site is ${site}`);
    return origin === undefined || allowed.has(origin) ? { ok: true } : refuse(`Origin ${origin} is not allowed`);
  }
  if (origin !== undefined) return allowed.has(origin) ? { ok: true } : refuse(`Origin ${origin} is not allowed`);

  const referer = singleHeader(req.headers, "referer");
  if (referer === null) return refuse("duplicated Referer header");
  if (referer === undefined) return refuse("no Sec-Fetch-Site, Origin or Referer header");
  const refererOrigin = originOf(referer);
  return refererOrigin !== null && allowed.has(refererOrigin)
    ? { ok: true }
    : refuse("Referer is not from an allowed origin");
}

/**
 * Make a CSRF token for an HTML form: 32 bytes from the CSPRNG, base64url (43 characters). Store it in the session
 * and render it in a hidden field; make a new one at login (OWASP CSRF CS: login CSRF, token rotation).
 *
 * @returns The token.
 * @example
 * req.session.data.csrf ??= createCsrfToken();
 */
export function createCsrfToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * Compare the session's token with the submitted one in constant time (`crypto.timingSafeEqual`). Anything that is
 * not a non-empty string, or differs in length, is `false` without a comparison.
 *
 * @param expected The token stored in the session.
 * @param actual The token from the form or header (any type: body parsers produce arrays and objects too).
 * @returns `true` only for two identical non-empty strings.
 * @example
 * if (!verifyCsrfToken(req.session.data.csrf, req.body._csrf)) return res.status(403).send("Forbidden");
 */
export function verifyCsrfToken(expected: unknown, actual: unknown): boolean {
  if (typeof expected !== "string" || typeof actual !== "string" || expected === "") return false;
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(actual, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `undefined` when absent, `null` when sent more than once (ambiguous: refuse), else the value. */
function singleHeader(headers: OriginCheckRequest["headers"], name: string): string | undefined | null {
  const value = headers?.[name];
  if (Array.isArray(value)) return value.length === 1 ? (value[0] ?? null) : null;
  return value;
}

function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}

function allowedSet(origins: string[] | undefined): ReadonlySet<string> {
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new TypeError("allowedOrigins option must be a non-empty array of origins such as https://app.example.org");
  }
  for (const origin of origins) {
    // A serialized origin has no path, no trailing slash and no default port: what browsers send in Origin.
    if (typeof origin !== "string" || originOf(origin) !== origin) {
      throw new TypeError(`allowedOrigins option holds ${JSON.stringify(origin)}, which is not a serialized origin`);
    }
  }
  return new Set(origins);
}

function refuse(reason: string): OriginCheckResult {
  return { ok: false, reason };
}
