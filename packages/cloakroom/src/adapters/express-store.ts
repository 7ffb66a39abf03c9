/**
 * express-session's `Store` base class, for third-party stores that extend it, with its `regenerate`, `load` and
 * `createSession` helpers. A function constructor on purpose: older connect-* stores call `Store.call(this)` and
 * `util.inherits(MyStore, Store)`, which an ES class forbids.
 */
import { EventEmitter } from "node:events";
import { bindingOf } from "./express-binding.js";
import { ExpressSession } from "./express-session.js";

type Callback = (error?: unknown, value?: unknown) => void;

interface StoreLike extends EventEmitter {
  get(sid: string, callback: Callback): void;
  destroy(sid: string, callback?: Callback): void;
  createSession(req: object, session: Record<string, unknown>): object;
}

interface StoreRequest {
  session?: unknown;
  sessionID?: string | null;
  sessionStore?: unknown;
}

/** express-session's Store: an EventEmitter with regenerate/load/createSession helpers. */
export interface Store extends EventEmitter {
  /** Replace the request's session with a new, empty one (express-session's `req.session.regenerate` goes here). */
  regenerate(req: object, callback: Callback): void;
  /** Read a session and make it a Session object (`session.save()` then writes it back through this store). */
  load(sid: string, callback: Callback): void;
  /** Turn stored session data into `req.session` (with its cookie) and return it. */
  createSession(req: object, session: Record<string, unknown>): object;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a callable constructor cannot be typed as a class
export const Store: { new (): Store; (this: any): void; prototype: Store } = function Store(this: EventEmitter): void {
  EventEmitter.call(this);
} as never;

Object.setPrototypeOf(Store.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Store, EventEmitter);

Store.prototype.regenerate = function regenerate(this: StoreLike, req: StoreRequest, callback: Callback): void {
  const session = req.session;
  // The middleware's own session: its regenerate() does the whole job (new ticket, new object at req.session).
  if (session instanceof ExpressSession && bindingOf(req) !== undefined) {
    session.regenerate((error) => callback(error));
    return;
  }
  const sid = req.sessionID;
  if (!sid) return callback();
  this.destroy(sid, (error) => callback(error));
};

Store.prototype.load = function load(this: StoreLike, sid: string, callback: Callback): void {
  this.get(sid, (error, session) => {
    if (error) return callback(error);
    if (!session) return callback();
    callback(undefined, this.createSession({ sessionID: sid, sessionStore: this }, session as Record<string, unknown>));
  });
};

Store.prototype.createSession = function createSession(req: StoreRequest, session: Record<string, unknown>): object {
  const binding = bindingOf(req);
  const current = binding?.current;
  if (current instanceof ExpressSession) {
    // The middleware's session for this request takes the data: the end of the request saves what changed.
    replaceData(current, session);
    return current;
  }
  const created = new ExpressSession(req, session);
  req.session = created;
  return created;
}

/** Make `session`'s data (and cookie lifetime) the stored `data`, as express-session's createSession does. */
function replaceData(session: ExpressSession, data: Record<string, unknown>): void {
  const target = session as unknown as Record<string, unknown>;
  for (const key of Object.keys(session)) if (key !== "cookie") delete target[key];
  for (const key in data) if (key !== "cookie" && !(key in session)) target[key] = data[key];
  const cookie = data.cookie as { expires?: string | Date | null; originalMaxAge?: number | null } | undefined;
  if (cookie && typeof cookie === "object") {
    if (cookie.expires) session.cookie.expires = new Date(cookie.expires);
    else session.cookie.maxAge = cookie.originalMaxAge ?? null;
  }
}
