/**
 * `request.session` of cloakroom/fastify and `c.var.session` of cloakroom/hono: the core Session (data as
 * properties, Promise lifecycle) with @fastify/session's API — `get`, `set`, `sessionId`, `isModified()`,
 * `isSaved()`, and `regenerate([ignoreFields, ]callback?)`, `destroy`, `reload` and `save`, each taking a callback or
 * returning a Promise — so code written for @fastify/session reads the same.
 */
import { Session, type SessionHandle } from "../core/session.js";
import { diffData } from "../core/state.js";
import type { SessionData } from "../core/types.js";

/** The type of a data key: as declared in `SessionData` (declaration merging), else unknown. */
export type DataValue<K extends string> = K extends keyof SessionData ? SessionData[K] : unknown;

/** @fastify/session's callback: called with the error, or with nothing on success. */
export type SessionCallback = (error?: Error) => void;

/**
 * Sessions whose data was written by their own save() (or rotate()) during this request (@fastify/session's
 * `isSaved()`). A set rather than a field: the read-only request, which never saves, pays nothing for it.
 */
const savedInRequest = new WeakSet<object>();

/** Run `callback` when `promise` settles (@fastify/session's callback form), or hand the Promise back. */
function settle(promise: Promise<void>, callback: SessionCallback | undefined): Promise<void> | undefined {
  if (typeof callback !== "function") return promise;
  promise.then(() => callback(), (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
  return undefined;
}

/**
 * The cookie attributes `options()` takes, in the order they are applied: `maxAge` after `expires`, so that it wins
 * when both are given (@fastify/session's rule).
 */
const COOKIE_ATTRIBUTES = ["expires", "maxAge", "httpOnly", "secure", "path", "domain", "sameSite", "partitioned", "priority"] as const;

/** What `options()` accepts: the cookie attributes (`maxAge` in ms), any other key ignored. */
export type SessionCookieOptions = { [K in (typeof COOKIE_ATTRIBUTES)[number]]?: unknown } & Record<string, unknown>;

/** A session of the Fastify and Hono adapters. */
export class PromiseSession extends Session {
  /**
   * Written out so that `new` hands the handle straight to Session's: the implicit constructor of a subclass forwards
   * its arguments as varargs (ConstructForwardVarargs, 0.27k instructions a request under bench:steady).
   */
  constructor(handle: SessionHandle) {
    super(handle);
  }

  /** The engine's factory (SessionManager.loadNow's `create`). */
  static create(handle: SessionHandle): PromiseSession {
    return new PromiseSession(handle);
  }

  /** @fastify/session's name for the ticket: `null` until the session is stored. Secret: never log it. */
  get sessionId(): string | null {
    return this.id;
  }

  /** A data value (`session.get("userId")` is `session.userId`); typed for keys declared in `SessionData`. */
  get<K extends string>(key: K): DataValue<K> | undefined;
  get(key: string): unknown {
    return this.#isReserved(key) ? undefined : this[key];
  }

  /**
   * Set a data value (`session.set("userId", id)` is `session.userId = id`, and rotates the ticket as a login).
   * @throws {TypeError} for a name that is not data (a method, `id`, `cookie`)
   */
  set<K extends string>(key: K, value: DataValue<K>): void;
  set(key: string, value: unknown): void {
    if (this.#isReserved(key)) throw new TypeError(`"${key}" is a member of the session, not a data key`);
    this[key] = value;
  }

  /**
   * Whether the data differs from what was loaded from the store, or last written (@fastify/session's meaning:
   * `cookie` is not data; assigning a value equal to the stored one is no change, nested changes in objects are).
   */
  isModified(): boolean {
    const state = Session.stateOf(this);
    return diffData(this, state.snapshot, state.reserved).changed;
  }

  /**
   * Change this session's cookie attributes from here on (@fastify/session's `options(opts)`, e.g. a "remember me"
   * login: `request.session.options({ maxAge: 30 * 86_400_000 })`). `maxAge` is in milliseconds, as @fastify/session
   * 11 applies it; `secure: "auto"` and keys that are not cookie attributes are ignored.
   */
  options(opts: SessionCookieOptions): void {
    const cookie = this.cookie as unknown as Record<string, unknown>;
    for (const key of COOKIE_ATTRIBUTES) {
      const value = opts[key];
      if (value !== undefined && !(key === "secure" && value === "auto")) cookie[key] = value;
    }
  }

  /**
   * Whether this request wrote the session to the store through `save()` (or `rotate()`), as @fastify/session's
   * `isSaved()`: `false` for a session only loaded, and it stays `true` after later changes (which the end of the
   * request still writes). After `regenerate()` or `destroy()` it is `false` again.
   */
  isSaved(): boolean {
    return savedInRequest.has(this);
  }

  /**
   * Destroy the stored session and continue with a new, empty one in this object; the fields named in
   * `ignoreFields` are kept (@fastify/session's meaning). The new session is stored at the end of the request (or at
   * `save()`): `sessionId` is `null` until then.
   */
  override regenerate(ignoreFields?: readonly string[]): Promise<void>;
  override regenerate(callback: SessionCallback): void;
  override regenerate(ignoreFields: readonly string[] | undefined, callback: SessionCallback): void;
  override regenerate(fields?: readonly string[] | SessionCallback, callback?: SessionCallback): Promise<void> | undefined {
    if (typeof fields === "function") {
      callback = fields;
      fields = undefined;
    }
    const kept: [string, unknown][] = [];
    for (const key of Array.isArray(fields) ? fields : []) if (!this.#isReserved(key) && Object.hasOwn(this, key)) kept.push([key, this[key]]);
    savedInRequest.delete(this);
    const promise = super.regenerate().then(() => {
      for (const [key, value] of kept) this[key] = value;
    });
    return settle(promise, callback);
  }

  /** Delete the stored session; the response clears the cookie, and this object is left empty. */
  override destroy(): Promise<void>;
  override destroy(callback: SessionCallback): void;
  override destroy(callback?: SessionCallback): Promise<void> | undefined {
    savedInRequest.delete(this);
    return settle(super.destroy(), callback);
  }

  /** Re-read the data from the store, dropping unsaved changes. Fails with "failed to load session" when it is gone. */
  override reload(): Promise<void>;
  override reload(callback: SessionCallback): void;
  override reload(callback?: SessionCallback): Promise<void> | undefined {
    return settle(super.reload(), callback);
  }

  /** Write pending changes now instead of at the end of the request. */
  override save(): Promise<void>;
  override save(callback: SessionCallback): void;
  override save(callback?: SessionCallback): Promise<void> | undefined {
    return settle(super.save().then(() => this.#saved()), callback);
  }

  /** Issue a new ticket now, keeping the data (after a password change or privilege change). */
  override rotate(): Promise<void>;
  override rotate(callback: SessionCallback): void;
  override rotate(callback?: SessionCallback): Promise<void> | undefined {
    return settle(super.rotate().then(() => this.#saved()), callback);
  }

  /** Mark the session saved when a write of it just happened (a save() with nothing to write marks nothing). */
  #saved(): void {
    if (this.id !== null) savedInRequest.add(this);
  }

  #isReserved(key: string): boolean {
    return key === "cookie" || key in PromiseSession.prototype;
  }
}
