/**
 * The Session object: its own enumerable properties are `cookie` and the session data, its methods the lifecycle
 * (Promise-only here; the Express adapter adds express-session's callback forms in one shim).
 */
import type { SessionManager, SessionSummary } from "./manager.js";
import { SessionCookie } from "./session-cookie.js";
import { createSessionState, registerStateReader, type SessionState } from "./state.js";
import type { SessionData } from "./types.js";

export { SessionCookie } from "./session-cookie.js";

/**
 * What a framework adapter hands to its Session subclass's constructor: the engine's state of one request's session,
 * opaque outside core/. The manager makes it ({@link SessionManager.loadNow}); an adapter only passes it on.
 */
export type SessionHandle = { readonly __brand: "cloakroom.SessionHandle" };

/**
 * A request's session. Assign data as properties; the engine saves only what changed.
 * Reserved names (not data): `id`, `cookie`, `details` and the methods below.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- data keys live on the instance
export class Session {
  readonly #state: SessionState;
  /** express-session's `req.session.cookie` (an own enumerable property, as there: `Object.keys` lists it first). */
  cookie: SessionCookie;

  constructor(handle: SessionHandle) {
    const state = handle as unknown as SessionState;
    this.#state = state;
    this.cookie = SessionCookie.bound(state);
  }

  /** @internal the engine's state of a session object */
  static stateOf(session: object): SessionState {
    return (session as Session).#state;
  }

  /** The manager a session belongs to (`null` for one made outside the engine), for adapters' subclasses. */
  static managerOf(session: Session): SessionManager | null {
    return session.#state.engine;
  }

  /** The ticket (the secret bearer value in the cookie) or `null` before the session is stored. Never log it. */
  get id(): string | null {
    return this.#state.ticket;
  }

  /** Times, device and store key of the stored session, or `null` while not stored. */
  get details(): SessionSummary | null {
    return this.#state.engine?.describe(this) ?? null;
  }

  /** Destroy the stored session and continue with a new, empty one (express-session's meaning), in this object. */
  async regenerate(): Promise<void> {
    await this.#engine().regenerate(this);
  }

  /** Delete the stored session; the response clears the cookie. */
  destroy(): Promise<void> {
    return this.#engine().destroy(this);
  }

  /** Re-read the data from the store. Rejects with "failed to load session" when it is gone. */
  reload(): Promise<void> {
    return this.#engine().reload(this);
  }

  /** Write pending changes now instead of at the end of the request. */
  async save(): Promise<void> {
    await this.#engine().commit(this);
  }

  /** Reset the cookie's lifetime and slide the idle window on this request, even inside `touchAfter`. */
  touch(): this {
    this.#engine().touch(this);
    return this;
  }

  /** express-session's name for {@link Session.touch}. */
  resetMaxAge(): this {
    return this.touch();
  }

  /** Issue a new ticket now, keeping the data (after a password change or privilege change). */
  rotate(): Promise<void> {
    return this.#engine().rotate(this);
  }

  #engine(): SessionManager {
    const engine = this.#state.engine;
    if (!engine) throw new TypeError("this session is not bound to a session manager");
    return engine;
  }
}

registerStateReader(Session.stateOf);

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- data keys live on the instance
export interface Session extends Partial<SessionData> {
  [key: string]: unknown;
}

/**
 * A handle for a session object made outside the engine (express-session's `new Session(req, data)`): its `id` is
 * `id`, its cookie a standalone one; its methods are the adapter's to define.
 */
export function detachedHandle(id: string | null): SessionHandle {
  const state = createSessionState({
    engine: null,
    create: null,
    cookie: { name: "", declaredSameSite: false, path: "/", httpOnly: true, secure: false, partitioned: false },
    cookieAllowed: false,
    cookieMaxAge: null,
    now: Date.now,
    identityKey: "",
    request: null,
    ip: undefined,
    userAgent: undefined,
  });
  state.ticket = id;
  return state as unknown as SessionHandle;
}
