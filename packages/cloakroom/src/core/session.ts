/**
 * The Session object: its own enumerable properties are the session data, its methods the lifecycle
 * (Promise-only here; the Express adapter adds express-session's callback forms in one shim).
 */
import type { SessionManager, SessionSummary } from "./manager.js";
import { stateOf } from "./state.js";
import type { SessionData } from "./types.js";

/** The persistent-cookie settings of one session, express-session's `req.session.cookie`. */
export class SessionCookie {
  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  /**
   * ms until the cookie expires for a persistent session, `null` for a browser-session cookie. Setting it makes this
   * session's cookie persistent (or not, with `null`) and uses the value as its idle window, always bounded by the
   * absolute timeout.
   */
  get maxAge(): number | null {
    const state = stateOf(this.#session);
    if (state.cookieMaxAge === null) return null;
    const absolute = state.record?.absoluteExpiresAt;
    return absolute === undefined ? state.cookieMaxAge : Math.max(0, Math.min(state.cookieMaxAge, absolute - Date.now()));
  }

  set maxAge(value: number | null) {
    if (value !== null && (typeof value !== "number" || !Number.isFinite(value) || value <= 0)) {
      throw new TypeError("maxAge must be a positive number of milliseconds or null");
    }
    stateOf(this.#session).cookieMaxAge = value === null ? null : Math.floor(value);
  }

  /** The configured lifetime (express-session's originalMaxAge). */
  get originalMaxAge(): number | null {
    return stateOf(this.#session).cookieMaxAge;
  }

  /** When a persistent cookie expires, `null` for a browser-session cookie. */
  get expires(): Date | null {
    const maxAge = this.maxAge;
    return maxAge === null ? null : new Date(Date.now() + maxAge);
  }

  set expires(value: Date | null) {
    this.maxAge = value === null ? null : Math.max(1, value.getTime() - Date.now());
  }

  get httpOnly(): boolean {
    return stateOf(this.#session).cookie?.httpOnly ?? true;
  }

  get secure(): boolean {
    return stateOf(this.#session).cookie?.secure ?? false;
  }

  get path(): string {
    return stateOf(this.#session).cookie?.path ?? "/";
  }

  get domain(): string | undefined {
    return stateOf(this.#session).cookie?.domain;
  }

  get sameSite(): string | undefined {
    return stateOf(this.#session).cookie?.sameSite;
  }

  toJSON(): Record<string, unknown> {
    return { originalMaxAge: this.originalMaxAge, expires: this.expires, httpOnly: this.httpOnly, secure: this.secure, path: this.path, domain: this.domain, sameSite: this.sameSite };
  }
}

/**
 * A request's session. Assign data as properties; the engine saves only what changed.
 * Reserved names (not data): `id`, `cookie`, `details` and the methods below.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- data keys live on the instance
export class Session {
  readonly #manager: SessionManager;
  #cookie: SessionCookie | undefined;

  constructor(manager: SessionManager) {
    this.#manager = manager;
  }

  /** The ticket (the secret bearer value in the cookie) or `null` before the session is stored. Never log it. */
  get id(): string | null {
    return stateOf(this).ticket;
  }

  /** express-session's `req.session.cookie`. */
  get cookie(): SessionCookie {
    return (this.#cookie ??= new SessionCookie(this));
  }

  /** Times, device and store key of the stored session, or `null` while not stored. */
  get details(): SessionSummary | null {
    return this.#manager.describe(this);
  }

  /** Destroy the stored session and continue with a new, empty one (express-session's meaning). */
  regenerate(): Promise<void> {
    return this.#manager.regenerate(this);
  }

  /** Delete the stored session; the response clears the cookie. */
  destroy(): Promise<void> {
    return this.#manager.destroy(this);
  }

  /** Re-read the data from the store. Rejects with "failed to load session" when it is gone. */
  reload(): Promise<void> {
    return this.#manager.reload(this);
  }

  /** Write pending changes now instead of at the end of the request. */
  async save(): Promise<void> {
    await this.#manager.commit(this);
  }

  /** Slide the idle window on this request even inside `touchAfter`. */
  touch(): this {
    this.#manager.touch(this);
    return this;
  }

  /** express-session's name for {@link Session.touch}. */
  resetMaxAge(): this {
    return this.touch();
  }

  /** Issue a new ticket now, keeping the data (after a password change or privilege change). */
  rotate(): Promise<void> {
    return this.#manager.rotate(this);
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- data keys live on the instance
export interface Session extends Partial<SessionData> {
  [key: string]: unknown;
}
