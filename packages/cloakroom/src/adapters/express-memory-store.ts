/**
 * `session.MemoryStore` of cloakroom/express: express-session's MemoryStore API (callbacks, keyed by
 * `req.sessionID`, an EventEmitter) in front of the native MemoryStore that the middleware uses directly.
 *
 * Two faces, one store: the middleware talks to the native store (per-key patches, the per-user index, keys hashed
 * at rest) as long as the instance's `get`, `set`, `destroy` and `touch` are this class's own; app code and tests talk
 * to the callback face, which hashes the session id into the same key. When app code replaces one of those methods
 * on the instance (a common way to simulate a failing store), the middleware goes through the face instead, as
 * express-session would, so the replacement is what runs.
 */
import type { SessionRecord, SessionStore } from "../core/types.js";
import { expiresAtOf } from "../core/types.js";
import { storeKeyOf } from "../core/ticket.js";
import { DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT } from "../core/timeouts.js";
import { MemoryStore as NativeMemoryStore, type MemoryStoreOptions } from "../stores/memory.js";
import { Store } from "./express-store.js";

type Callback<T = unknown> = (error?: unknown, value?: T) => void;

/** An express-session session as stores hold it: the data plus its cookie. */
export type StoredExpressSession = Record<string, unknown> & { cookie?: Record<string, unknown> };

/** What the face needs from the middleware that uses it, to write records the engine reads the same way. */
export interface FaceSettings {
  idleTimeout: number;
  absoluteTimeout: number;
  identityKey: string;
  /** The cookie attributes express-session would keep with each session (`secure`, `httpOnly`, `path`, …). */
  cookie: Record<string, unknown>;
}

const natives = new WeakMap<object, NativeMemoryStore>();

/** express-session's MemoryStore, over cloakroom's (which sweeps expired sessions on a timer: it does not leak). */
export class MemoryStore extends Store {
  #settings: FaceSettings = {
    idleTimeout: DEFAULT_IDLE_TIMEOUT,
    absoluteTimeout: DEFAULT_ABSOLUTE_TIMEOUT,
    identityKey: "userId",
    cookie: { httpOnly: true, path: "/" },
  };

  /** @param options the native MemoryStore's options (`maxSessions`, `sweepInterval`) */
  constructor(options: MemoryStoreOptions = {}) {
    super();
    natives.set(this, new NativeMemoryStore(options));
  }

  /** The native store behind a face (the middleware's fast path). */
  static nativeOf(face: MemoryStore): SessionStore {
    return natives.get(face)!;
  }

  /** Whether app code replaced one of the methods the middleware would call (then the middleware calls them). */
  static isPatched(face: MemoryStore): boolean {
    const proto = MemoryStore.prototype;
    return face.get !== proto.get || face.set !== proto.set || face.destroy !== proto.destroy || face.touch !== proto.touch;
  }

  /** The middleware's lifetimes and cookie attributes, so sessions written through this face look like its own. */
  static configure(face: MemoryStore, settings: FaceSettings): void {
    face.#settings = settings;
  }

  get(sid: string, callback: Callback<StoredExpressSession | undefined>): void {
    this.#run(callback, async (native) => {
      const record = await native.get(storeKeyOf(sid));
      return record ? this.#toSession(record) : undefined;
    });
  }

  set(sid: string, session: StoredExpressSession, callback?: Callback): void {
    this.#run(callback, async (native) => {
      const key = storeKeyOf(sid);
      await native.create(key, this.#toRecord(session, await native.get(key)));
    });
  }

  touch(sid: string, session: StoredExpressSession, callback?: Callback): void {
    this.#run(callback, async (native) => {
      const key = storeKeyOf(sid);
      const existing = await native.get(key);
      if (!existing) return;
      const next = this.#toRecord(session, existing);
      await native.touch(key, next.idleExpiresAt, next.touchedAt);
    });
  }

  destroy(sid: string, callback?: Callback): void {
    this.#run(callback, (native) => native.destroy(storeKeyOf(sid)));
  }

  /** Every live session, keyed by its store key (a hash of the session id: ids are never kept). */
  all(callback: Callback<Record<string, StoredExpressSession>>): void {
    this.#run(callback, async (native) => {
      const all: Record<string, StoredExpressSession> = {};
      for (const { key, record } of await native.entries()) all[key] = this.#toSession(record);
      return all;
    });
  }

  length(callback: Callback<number>): void {
    this.#run(callback, (native) => native.count());
  }

  clear(callback?: Callback): void {
    this.#run(callback, (native) => native.clear());
  }

  /** Stop the native store's sweep timer (it is unref'd: a process never waits for it). */
  close(): Promise<void> {
    return natives.get(this)!.close();
  }

  #run<T>(callback: Callback<T> | undefined, work: (native: NativeMemoryStore) => Promise<T>): void {
    work(natives.get(this)!).then(
      (value) => callback?.(null, value),
      (error: unknown) => callback?.(error),
    );
  }

  /** A record as express-session's MemoryStore would hand it out: the data, with its cookie first. */
  #toSession(record: SessionRecord): StoredExpressSession {
    const expires = record.cookieMaxAge === null ? null : new Date(expiresAtOf(record)).toISOString();
    return { cookie: { originalMaxAge: record.cookieMaxAge, expires, ...this.#settings.cookie }, ...record.data };
  }

  /** An express-session session as a record, keeping what the store knew of it (creation, absolute expiry, device). */
  #toRecord(session: StoredExpressSession, existing: SessionRecord | null): SessionRecord {
    const settings = this.#settings;
    const now = Date.now();
    const data: Record<string, unknown> = {};
    for (const key of Object.keys(session)) if (key !== "cookie") data[key] = session[key];
    const cookie = (session.cookie ?? {}) as { originalMaxAge?: unknown; expires?: unknown };
    const cookieMaxAge = typeof cookie.originalMaxAge === "number" ? cookie.originalMaxAge : null;
    const expires = cookie.expires ? new Date(cookie.expires as string).getTime() : NaN;
    const absoluteExpiresAt = existing?.absoluteExpiresAt ?? now + Math.max(settings.absoluteTimeout, cookieMaxAge ?? 0);
    const identity = data[settings.identityKey];
    return {
      userId: identity === undefined || identity === null ? null : String(identity),
      data: JSON.parse(JSON.stringify(data)) as Record<string, unknown>,
      createdAt: existing?.createdAt ?? now,
      touchedAt: now,
      idleExpiresAt: Math.min(Number.isFinite(expires) ? expires : now + (cookieMaxAge ?? settings.idleTimeout), absoluteExpiresAt),
      absoluteExpiresAt,
      cookieMaxAge,
      version: existing ? existing.version + 1 : 0,
      meta: existing?.meta ?? {},
    };
  }
}
