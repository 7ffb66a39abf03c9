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

/**
 * The persistent lifetime a new session's cookie gets from the options, in ms from `now`, or `null`. express-session:
 * "If both expires and maxAge are set in the options, then the last one defined in the object is what is used."
 */
export function lifetimeOf(options: CookieOptions, now: number): number | null {
  return expiresWins(options) ? (options.expires as Date).getTime() - now : (options.maxAge ?? null);
}

/** Whether the options' `expires` (a fixed date) rather than `maxAge` decides a new cookie's lifetime. */
export function expiresWins(options: CookieOptions): boolean {
  if (!(options.expires instanceof Date)) return false;
  if (options.maxAge === undefined || options.maxAge === null) return true;
  const keys = Object.keys(options);
  return keys.lastIndexOf("expires") > keys.lastIndexOf("maxAge");
}

/** The attributes for one response, once `"auto"` values are settled against the request. */
export interface ResolvedCookie {
  name: string;
  /** `sameSite` as express-session's `req.session.cookie.sameSite` shows it: the option as given, `"auto"` settled. */
  declaredSameSite: boolean | "lax" | "strict" | "none";
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
 * @returns the attributes; whether this request may carry them at all is {@link cookieAllowed}'s answer
 */
export function resolveCookie(options: CookieOptions, requestIsSecure: boolean): ResolvedCookie {
  const secure = options.secure === "auto" || options.secure === undefined ? requestIsSecure : options.secure;
  const path = options.path ?? "/";
  const name = options.name ?? defaultCookieName(secure, path, options.domain);
  const sameSite = resolveSameSite(options.sameSite, requestIsSecure);
  const resolved: ResolvedCookie = {
    name,
    declaredSameSite: options.sameSite === undefined || options.sameSite === "auto" ? (sameSite ?? false) : options.sameSite,
    path,
    httpOnly: options.httpOnly ?? true,
    secure,
    partitioned: options.partitioned ?? false,
  };
  if (sameSite) resolved.sameSite = sameSite;
  if (options.domain !== undefined) resolved.domain = options.domain;
  if (options.priority !== undefined) resolved.priority = options.priority;
  return resolved;
}

/**
 * Whether a response to this request may set the cookie: a Secure cookie is never set over plain HTTP (express-session
 * then skips Set-Cookie silently; the engine also skips the store write), and a prefixed name must keep its prefix's
 * rules (RFC 6265bis §4.1.3: user agents reject prefixed cookies that break them, case-insensitively).
 */
export function cookieAllowed(cookie: ResolvedCookie, requestIsSecure: boolean): boolean {
  if (cookie.secure && !requestIsSecure) return false;
  if (/^__host-/i.test(cookie.name) && (!cookie.secure || cookie.path !== "/" || cookie.domain !== undefined)) return false;
  if (/^__secure-/i.test(cookie.name) && !cookie.secure) return false;
  return true;
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
  const { name, declaredSameSite: _declared, ...attributes } = cookie;
  if (options.maxAgeMs === null) return serialize(name, value, attributes);
  // An invalid expiry (req.session.cookie.expires = new Date(NaN)) fails as express-session's does.
  if (Number.isNaN(options.maxAgeMs)) return serialize(name, value, { ...attributes, expires: new Date(NaN) });
  const seconds = Math.max(0, Math.floor(options.maxAgeMs / 1000));
  // Max-Age wins in every current browser; Expires is for the old ones (express-session sends only Expires).
  return serialize(name, value, { ...attributes, maxAge: seconds, expires: new Date(options.now + seconds * 1000) });
}

/** A Set-Cookie line that deletes the session cookie in the browser (`Max-Age=0` and a past `Expires`). */
export function serializeClearingCookie(cookie: ResolvedCookie): string {
  const { name, declaredSameSite: _declared, ...attributes } = cookie;
  return serialize(name, "", { ...attributes, maxAge: 0, expires: new Date(0) });
}

/** A request's cookie attributes, and whether it may carry them. */
export interface SettledCookie {
  cookie: ResolvedCookie;
  allowed: boolean;
}

/** Settle the cookie attributes for a request of this security (see {@link resolveCookie}, {@link cookieAllowed}). */
export function settleCookie(options: CookieOptions, secure: boolean): SettledCookie {
  const cookie = resolveCookie(options, secure);
  return { cookie, allowed: cookieAllowed(cookie, secure) };
}
