/**
 * express-session's `Store` base class, for third-party stores that extend it. A function constructor on purpose:
 * older connect-* stores call `Store.call(this)` and `util.inherits(MyStore, Store)`, which an ES class forbids.
 */
import { EventEmitter } from "node:events";

type Callback = (error?: unknown, value?: unknown) => void;

interface StoreLike extends EventEmitter {
  get(sid: string, callback: Callback): void;
  destroy(sid: string, callback?: Callback): void;
  generate?(req: unknown): void;
}

/** express-session's Store: an EventEmitter with regenerate/load/createSession helpers. */
export interface Store extends EventEmitter {
  regenerate(req: { session?: unknown }, callback: Callback): void;
  load(sid: string, callback: Callback): void;
  createSession(req: unknown, session: Record<string, unknown>): Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a callable constructor cannot be typed as a class
export const Store: { new (): Store; (this: any): void; prototype: Store } = function Store(this: EventEmitter): void {
  EventEmitter.call(this);
} as never;

Object.setPrototypeOf(Store.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Store, EventEmitter);

Store.prototype.regenerate = function regenerate(this: StoreLike, req: { session?: { id?: string | null } }, callback: Callback): void {
  const sid = req.session?.id;
  if (!sid) return callback();
  this.destroy(sid, (error) => callback(error));
};

Store.prototype.load = function load(this: StoreLike, sid: string, callback: Callback): void {
  this.get(sid, (error, session) => {
    if (error) return callback(error);
    callback(undefined, session ?? undefined);
  });
};

Store.prototype.createSession = function createSession(_req: unknown, session: Record<string, unknown>): Record<string, unknown> {
  return session;
};
