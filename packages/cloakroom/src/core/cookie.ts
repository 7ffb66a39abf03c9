/**
 * The session cookie: finding it in a Cookie header and writing its Set-Cookie line.
 * Serialization is the `cookie` package's; only the lookup of duplicate names is ours (see readCookieValues).
 */
import { serialize } from "cookie";

/** express-session's cookie options, with our defaults. */
export interface CookieOptions {
  /** @default "__Host-sid" when Secure (with Path=/ and no Domain), "__Secure-sid" when Secure otherwise, else "sid" */
  name?: string;
  domain?: string;
  /** @default "/" */
  path?: string;
  /** @default true */
  httpOnly?: boolean;
  /** `"auto"`: Secure exactly when the request is HTTPS (trust proxy honoured). @default "auto" */
  secure?: boolean | "auto";
  /** `true` = Strict, `false` = no attribute, `"auto"` = None on HTTPS and Lax otherwise. @default "lax" */
  sameSite?: boolean | "lax" | "strict" | "none" | "auto";
  partitioned?: boolean;
  priority?: "low" | "medium" | "high";
  /** Persistent cookie lifetime in ms; `null` = a browser-session cookie. @default null */
  maxAge?: number | null;
  /** Absolute expiry; express-session's docs say prefer maxAge, and so do we. @default null */
  expires?: Date | null;
}

/** The attributes for one response, once `"auto"` values are settled against the request. */
export interface ResolvedCookie {
  name: string;
  domain?: string;
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite?: "lax" | "strict" | "none";
  partitioned: boolean;
  priority?: "low" | "medium" | "high";
}

/**
 * Settle the cookie attributes for a request.
 * @param options the configured options
 * @param requestIsSecure whether the request arrived over HTTPS (as the adapter's proxy rules see it)
 * @returns the attributes, or `null` when the cookie may not be set on this request (Secure demanded over HTTP:
 *   express-session then skips Set-Cookie silently; the caller also skips the store write)
 */
export function resolveCookie(options: CookieOptions, requestIsSecure: boolean): ResolvedCookie | null {
  const secure = options.secure === "auto" || options.secure === undefined ? requestIsSecure : options.secure;
  if (secure && !requestIsSecure) return null;
  const path = options.path ?? "/";
  const name = options.name ?? defaultCookieName(secure, path, options.domain);
  // RFC 6265bis §4.1.3: user agents reject prefixed cookies that break the prefix rules, case-insensitively.
  if (/^__host-/i.test(name) && (!secure || path !== "/" || options.domain !== undefined)) return null;
  if (/^__secure-/i.test(name) && !secure) return null;
  const resolved: ResolvedCookie = {
    name,
    path,
    httpOnly: options.httpOnly ?? true,
    secure,
    partitioned: options.partitioned ?? false,
  };
  const sameSite = resolveSameSite(options.sameSite, requestIsSecure);
  if (sameSite) resolved.sameSite = sameSite;
  if (options.domain !== undefined) resolved.domain = options.domain;
  if (options.priority !== undefined) resolved.priority = options.priority;
  return resolved;
}

function defaultCookieName(secure: boolean, path: string, domain: string | undefined): string {
  if (!secure) return "sid";
  // RFC 6265bis §4.1.3.2: __Host- requires Secure, Path=/ and no Domain; otherwise __Secure- is the strongest prefix.
  return path === "/" && domain === undefined ? "__Host-sid" : "__Secure-sid";
}

function resolveSameSite(value: CookieOptions["sameSite"], requestIsSecure: boolean): ResolvedCookie["sameSite"] {
  if (value === undefined) return "lax";
  if (value === true) return "strict";
  if (value === false) return undefined;
  if (value === "auto") return requestIsSecure ? "none" : "lax";
  return value;
}

/**
 * Every value of the cookie `name` in a Cookie header, percent-decoded, in header order (a value that does not decode
 * is returned as it is). Written by hand because `cookie.parse` keeps only the first of duplicate names, and a server must
 * see all of them to refuse cookie tossing (RFC 6265bis: servers SHOULD NOT rely on the order of duplicates).
 * Names match exactly: `__HOST-sid` is not `__Host-sid`.
 * @param header the Cookie header (Node joins repeated Cookie headers with "; ")
 * @param name the cookie name
 */
export function readCookieValues(header: string | undefined, name: string): string[] {
  return readRawCookieValues(header, name).map(decodeCookieValue);
}

/** {@link readCookieValues} without the percent-decoding (a caller that caches by the raw text decodes on a miss). */
export function readRawCookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let raw = header.slice(eq + 1, end).trim();
      if (raw.length > 1 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
      values.push(raw);
    }
    start = end + 1;
  }
  return values;
}

export function decodeCookieValue(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Bad percent-encoding (e.g. %E0%A4%A) is never a 500: the raw text is kept, and it can never verify
    // (a signed value starts with "s:"), so it reads as a dead cookie.
    return raw;
  }
}

/**
 * A Set-Cookie line for the session cookie.
 * @param cookie the resolved attributes
 * @param value the signed value
 * @param options `maxAgeMs`: lifetime of a persistent cookie, `null` for a browser-session cookie; `now`: the clock
 */
export function serializeSessionCookie(
  cookie: ResolvedCookie,
  value: string,
  options: { maxAgeMs: number | null; now: number },
): string {
  const { name, ...attributes } = cookie;
  if (options.maxAgeMs === null) return serialize(name, value, attributes);
  const seconds = Math.max(0, Math.floor(options.maxAgeMs / 1000));
  // Max-Age wins in every current browser; Expires is for the old ones (express-session sends only Expires).
  return serialize(name, value, { ...attributes, maxAge: seconds, expires: new Date(options.now + seconds * 1000) });
}

/** A Set-Cookie line that deletes the session cookie in the browser (`Max-Age=0` and a past `Expires`). */
export function serializeClearingCookie(cookie: ResolvedCookie): string {
  const { name, ...attributes } = cookie;
  return serialize(name, "", { ...attributes, maxAge: 0, expires: new Date(0) });
}
