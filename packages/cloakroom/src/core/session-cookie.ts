/**
 * `req.session.cookie`: express-session's Cookie. Bound to a session it edits that session's cookie (its lifetime is
 * kept with the session; other attributes apply to the responses of the request that sets them); standalone
 * (`new Cookie(options)`) it is express-session's value object, with `data`, `serialize()` and `toJSON()`.
 */
import { serialize } from "cookie";
import type { ResolvedCookie } from "./cookie.js";

/** What a cookie reads and writes: a session's state, or a standalone cookie's own fields. */
export interface CookieHost {
  cookie: ResolvedCookie;
  /** The persistent lifetime in ms (express-session's originalMaxAge), `null` for a browser-session cookie. */
  cookieMaxAge: number | null;
  /** When a persistent cookie expires (ms since epoch; `NaN` for an invalid Date), `null` for a browser-session one. */
  cookieExpiresAt: number | null;
  now: () => number;
}

type SameSite = ResolvedCookie["declaredSameSite"];

/** The defaults of `new Cookie()`: express-session's `{ path: '/', httpOnly: true, maxAge: null }`. */
function standaloneHost(): CookieHost {
  return {
    cookie: { name: "", declaredSameSite: false, path: "/", httpOnly: true, secure: false, partitioned: false },
    cookieMaxAge: null,
    cookieExpiresAt: null,
    now: Date.now,
  };
}

const BOUND = Symbol("bound");

/** express-session's Cookie. */
export class SessionCookie {
  readonly #host: CookieHost;
  /** Attributes given standalone that express-session keeps as given (`secure`/`partitioned` unset stay unset). */
  #given: Set<string> | null;

  /**
   * A standalone cookie, as express-session's `new Cookie(options)`.
   * @throws {TypeError} "argument options must be a object" for a non-object; "maxAge must be a number or Date"
   */
  constructor(options?: Record<string, unknown> | typeof BOUND, host?: CookieHost) {
    if (options === BOUND) {
      this.#host = host!;
      this.#given = null;
      return;
    }
    this.#host = standaloneHost();
    this.#given = new Set(["path", "httpOnly"]);
    if (options !== undefined && options !== null) this.#assign(options);
  }

  /**
   * A standalone cookie's given attributes, through the setters. Out of the constructor, which the engine's session
   * constructor inlines for every request: V8 inlines by bytecode size, and this loop was most of it.
   */
  #assign(options: unknown): void {
    if (typeof options !== "object") throw new TypeError("argument options must be a object");
    for (const key of Object.keys(options!)) {
      if (key === "data") continue;
      (this as unknown as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key];
      this.#given!.add(key);
    }
  }

  /** The cookie of a session (engine use). */
  static bound(host: CookieHost): SessionCookie {
    return new SessionCookie(BOUND, host);
  }

  /**
   * ms until the cookie expires (it counts down, as express-session's does), `null` for a browser-session cookie.
   * Setting it makes the cookie persistent with that lifetime, which is also the session's idle window on the server
   * (always bounded by the absolute timeout); `null` or `false` make it a browser-session cookie.
   */
  get maxAge(): number | null {
    const expiresAt = this.#host.cookieExpiresAt;
    return expiresAt === null ? null : expiresAt - this.#host.now();
  }

  set maxAge(value: number | Date | null | undefined | false) {
    if (value && typeof value !== "number" && !(value instanceof Date)) throw new TypeError("maxAge must be a number or Date");
    if (value instanceof Date) {
      this.expires = value;
      return;
    }
    const host = this.#host;
    if (typeof value !== "number") {
      host.cookieMaxAge = null;
      host.cookieExpiresAt = null;
      return;
    }
    // Any number is a lifetime from now, as in express-session: 0 or less expires the cookie (and the session) at
    // once; NaN or an infinity is an invalid expiry, which fails when the cookie is written.
    if (!Number.isFinite(value)) {
      host.cookieMaxAge = null;
      host.cookieExpiresAt = NaN;
      return;
    }
    host.cookieMaxAge = Math.floor(value);
    host.cookieExpiresAt = host.now() + host.cookieMaxAge;
  }

  /** The lifetime the cookie was given, in ms (express-session's originalMaxAge). */
  get originalMaxAge(): number | null {
    return this.#host.cookieMaxAge;
  }

  set originalMaxAge(value: number | null) {
    this.#host.cookieMaxAge = typeof value === "number" && Number.isFinite(value) ? Math.floor(value) : null;
  }

  /** When a persistent cookie expires, `null` for a browser-session cookie. */
  get expires(): Date | null {
    const expiresAt = this.#host.cookieExpiresAt;
    return expiresAt === null ? null : new Date(expiresAt);
  }

  set expires(value: Date | null | undefined | false) {
    const host = this.#host;
    if (!(value instanceof Date)) {
      host.cookieMaxAge = null;
      host.cookieExpiresAt = null;
      return;
    }
    host.cookieExpiresAt = value.getTime();
    // An invalid Date keeps the session a browser-session one; writing the cookie then fails as in express-session.
    host.cookieMaxAge = Number.isNaN(host.cookieExpiresAt) ? null : host.cookieExpiresAt - host.now();
  }

  get httpOnly(): boolean {
    return this.#host.cookie.httpOnly;
  }

  set httpOnly(value: boolean) {
    this.#edit({ httpOnly: Boolean(value) });
  }

  get secure(): boolean | undefined {
    return this.#given && !this.#given.has("secure") ? undefined : this.#host.cookie.secure;
  }

  set secure(value: boolean) {
    this.#edit({ secure: Boolean(value) });
  }

  get path(): string {
    return this.#host.cookie.path;
  }

  set path(value: string) {
    this.#edit({ path: value });
  }

  get domain(): string | undefined {
    return this.#host.cookie.domain;
  }

  set domain(value: string | undefined) {
    this.#edit({ domain: value });
  }

  get sameSite(): SameSite | undefined {
    return this.#given && !this.#given.has("sameSite") ? undefined : this.#host.cookie.declaredSameSite;
  }

  set sameSite(value: SameSite) {
    const sameSite = value === true ? "strict" : value === false ? undefined : (String(value).toLowerCase() as "lax" | "strict" | "none");
    this.#edit({ declaredSameSite: value, sameSite });
  }

  get partitioned(): boolean | undefined {
    return this.#given && !this.#given.has("partitioned") ? undefined : this.#host.cookie.partitioned || undefined;
  }

  set partitioned(value: boolean) {
    this.#edit({ partitioned: Boolean(value) });
  }

  get priority(): "low" | "medium" | "high" | undefined {
    return this.#host.cookie.priority;
  }

  set priority(value: "low" | "medium" | "high" | undefined) {
    this.#edit({ priority: value });
  }

  /** express-session's `cookie.data`: the attributes `cookie.serialize` takes. */
  get data(): Record<string, unknown> {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this.expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    };
  }

  /** A Set-Cookie line for `name=value` with these attributes (express-session's `cookie.serialize`). */
  serialize(name: string, value: string): string {
    return serialize(name, value, this.data as Parameters<typeof serialize>[2]);
  }

  toJSON(): Record<string, unknown> {
    return this.data;
  }

  /** Per-request attribute changes: copy the shared attributes first (they are the manager's, for every request). */
  #edit(change: Partial<ResolvedCookie>): void {
    const host = this.#host;
    host.cookie = { ...host.cookie, ...change };
    if (change.domain === undefined && "domain" in change) delete host.cookie.domain;
    if (change.priority === undefined && "priority" in change) delete host.cookie.priority;
    if (change.sameSite === undefined && "sameSite" in change) delete host.cookie.sameSite;
  }
}
