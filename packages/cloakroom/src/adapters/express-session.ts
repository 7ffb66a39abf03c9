/**
 * `req.session` of cloakroom/express: the core Session with express-session's callback forms (one shim over the
 * Promise API), and express-session's `new Session(req, data)` for sessions made outside the middleware
 * (`store.load()`, `store.createSession()`), whose methods call the request's store as express-session's do.
 */
import type { SessionManager } from "../core/manager.js";
import { Session, detachedHandle, type SessionHandle } from "../core/session.js";
import { bindingOf, setRequestSession, setRequestSessionID } from "./express-binding.js";

type Callback = (error?: unknown) => void;

/** The express-session store methods a detached session calls (`req.sessionStore`). */
interface DetachedStore {
  get(sid: string, callback: (error?: unknown, session?: Record<string, unknown> | null) => void): void;
  set(sid: string, session: object, callback?: Callback): void;
  destroy(sid: string, callback?: Callback): void;
  regenerate?(req: object, callback: Callback): void;
  createSession?(req: object, session: Record<string, unknown>): object;
}

interface DetachedRequest {
  sessionID?: string | null;
  sessionStore?: DetachedStore;
  session?: unknown;
}

const ENGINE = Symbol("cloakroom.engine");

/** Call `callback` when `promise` settles and return `self`, or return the Promise when there is no callback. */
function settle<T, S>(promise: Promise<T>, callback: Callback | undefined, self: S): Promise<T> | S {
  if (typeof callback !== "function") return promise;
  promise.then(() => callback(), (error: unknown) => callback(error));
  return self;
}

/** `req.session`: data as properties; express-session's methods, each with a callback or returning a Promise. */
export class ExpressSession extends Session {
  #req: object | null = null;
  readonly #detached: boolean;

  /**
   * express-session's `new Session(req, data)`: a session outside the middleware, whose methods use
   * `req.sessionStore` with `req.sessionID` (express-session's semantics). Data keys that name a member are skipped.
   */
  constructor(req: object, data?: Record<string, unknown> | null, engine?: typeof ENGINE) {
    const detached = engine !== ENGINE;
    super(detached ? detachedHandle((req as DetachedRequest).sessionID ?? null) : (req as unknown as SessionHandle));
    this.#detached = detached;
    if (!detached) return;
    this.#req = req;
    const source = data && typeof data === "object" ? data : {};
    if (source.cookie && typeof source.cookie === "object") {
      const stored = source.cookie as { expires?: string | Date | null; originalMaxAge?: number | null };
      if (stored.expires) this.cookie.expires = new Date(stored.expires);
      this.cookie.originalMaxAge = stored.originalMaxAge ?? null;
    } else {
      delete (this as { cookie?: unknown }).cookie;
    }
    for (const key in source) if (key !== "cookie" && !(key in this)) (this as Record<string, unknown>)[key] = source[key];
  }

  /** The engine's factory (SessionManager.loadNow's `create`): a session of the engine's state `handle`. */
  static create(handle: SessionHandle): ExpressSession {
    return new ExpressSession(handle as unknown as object, null, ENGINE);
  }

  /** Tie an engine session to the request it serves (for req.session and req.sessionID updates). */
  static attach(session: ExpressSession, req: object): void {
    session.#req = req;
  }

  /** The request (express-session's `req.session.req`). */
  get req(): object | null {
    return this.#req;
  }

  /** Destroy the stored session and continue with a new, empty one at `req.session` (express-session's meaning). */
  override regenerate(): Promise<void>;
  override regenerate(callback: Callback): this;
  override regenerate(callback?: Callback): Promise<void> | this {
    if (this.#detached) return this.#viaStore(callback, (store, req, cb) => (store.regenerate ? store.regenerate(req, cb) : cb()));
    const engine = this.#engineOf();
    const promise = engine.regenerate(this, { replace: true }).then((fresh) => {
      const session = fresh as ExpressSession;
      session.#req = this.#req;
      const req = this.#req;
      const binding = req ? bindingOf(req) : undefined;
      if (req && binding) {
        binding.current = session;
        setRequestSession(req, binding, session);
        setRequestSessionID(req, binding, session.id);
      }
    });
    return settle(promise, callback, this);
  }

  /** Delete the stored session; `req.session` is unset at once (express-session), and the response clears the cookie. */
  override destroy(): Promise<void>;
  override destroy(callback: Callback): this;
  override destroy(callback?: Callback): Promise<void> | this {
    const req = this.#req;
    if (this.#detached) {
      if (req) delete (req as DetachedRequest).session;
      return this.#viaStore(callback, (store, _req, cb) => store.destroy(this.id ?? "", cb));
    }
    const binding = req ? bindingOf(req) : undefined;
    if (req && binding && binding.session === this) setRequestSession(req, binding, undefined);
    return settle(super.destroy(), callback, this);
  }

  /** Re-read the data from the store; "failed to load session" when it is gone. */
  override reload(): Promise<void>;
  override reload(callback: Callback): this;
  override reload(callback?: Callback): Promise<void> | this {
    if (this.#detached) {
      return this.#viaStore(callback, (store, req, cb) =>
        store.get(this.id ?? "", (error, stored) => {
          if (error) return cb(error);
          if (!stored) return cb(new Error("failed to load session"));
          store.createSession?.(req, stored);
          cb();
        }));
    }
    return settle(super.reload(), callback, this);
  }

  /** Write pending changes now (before a redirect, say) instead of at the end of the request. */
  override save(): Promise<void>;
  override save(callback: Callback): this;
  override save(callback?: Callback): Promise<void> | this {
    if (this.#detached) return this.#viaStore(callback, (store, _req, cb) => store.set(this.id ?? "", this, cb));
    return settle(super.save().then(() => this.#syncId()), callback, this);
  }

  /**
   * Reset the cookie's lifetime to its original maxAge, and slide the idle window on this request even inside
   * `touchAfter`. Returns the session, as express-session's does.
   */
  override touch(callback?: Callback): this {
    if (this.#detached) {
      if (this.cookie) this.cookie.maxAge = this.cookie.originalMaxAge;
    } else {
      super.touch();
    }
    if (typeof callback === "function") setImmediate(callback);
    return this;
  }

  /** express-session's name for {@link ExpressSession.touch}. */
  override resetMaxAge(callback?: Callback): this {
    return this.touch(callback);
  }

  /** Issue a new ticket now, keeping the data (after a password change or privilege change). */
  override rotate(): Promise<void>;
  override rotate(callback: Callback): this;
  override rotate(callback?: Callback): Promise<void> | this {
    return settle(super.rotate().then(() => this.#syncId()), callback, this);
  }

  /** The manager of an engine session (the detached ones have none). */
  #engineOf(): SessionManager {
    const engine = Session.managerOf(this);
    if (!engine) throw new TypeError("this session is not bound to a session manager");
    return engine;
  }

  /** Keep `req.sessionID` in step with the ticket (a plain property in express-session, kept current here). */
  #syncId(): void {
    const req = this.#req;
    const binding = req ? bindingOf(req) : undefined;
    if (req && binding && binding.current === this) setRequestSessionID(req, binding, this.id);
  }

  /** A detached session's method: express-session's, on the request's store. */
  #viaStore(callback: Callback | undefined, run: (store: DetachedStore, req: object, cb: Callback) => void): Promise<never> | this {
    const req = (this.#req ?? {}) as DetachedRequest;
    const store = req.sessionStore;
    const promise = new Promise<never>((resolve, reject) => {
      if (!store) return reject(new TypeError("this session has no req.sessionStore"));
      run(store, req, (error) => (error ? reject(error) : resolve(undefined as never)));
    });
    return settle(promise, callback, this);
  }
}
