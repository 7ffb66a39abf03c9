/**
 * `request.session` of cloakroom/fastify and `c.var.session` of cloakroom/hono: the core Session (data as
 * properties, Promise lifecycle) with @fastify/session's method names — `get`, `set`, `sessionId`, and
 * `regenerate(ignoreFields)` — so code written for @fastify/session reads the same.
 */
import { Session, type SessionHandle } from "../core/session.js";
import type { SessionData } from "../core/types.js";

/** The type of a data key: as declared in `SessionData` (declaration merging), else unknown. */
export type DataValue<K extends string> = K extends keyof SessionData ? SessionData[K] : unknown;

/** A session of the Promise-only adapters. */
export class PromiseSession extends Session {
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
   * Destroy the stored session and continue with a new, empty one in this object; the fields named in
   * `ignoreFields` are kept (@fastify/session's meaning).
   */
  override async regenerate(ignoreFields: readonly string[] = []): Promise<void> {
    const kept: [string, unknown][] = [];
    for (const key of ignoreFields) if (!this.#isReserved(key) && Object.hasOwn(this, key)) kept.push([key, this[key]]);
    await super.regenerate();
    for (const [key, value] of kept) this[key] = value;
  }

  #isReserved(key: string): boolean {
    return key === "cookie" || key in PromiseSession.prototype;
  }
}
