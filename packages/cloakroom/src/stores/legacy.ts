/**
 * Any express-session store (connect-redis, connect-pg-simple, memorystore, …) behind the SessionStore contract,
 * with express-session's semantics: the raw session id is the key and every write replaces the whole object.
 *
 * What such a store cannot give, declared in `capabilities` so the contract suite (cloakroom/testing) skips exactly
 * those tests (test/legacy.contract.test.ts runs it over express-session's MemoryStore and over connect-redis):
 * - atomic per-key patches (`wholeRecords: true`): patch and touch are get + merge + set, so two concurrent requests
 *   changing different keys can lose one, and a patch racing a destroy can write the session back (the suite's
 *   "concurrency across two handles" group). express-session has the same races; use a native store to be rid of them.
 * - a per-user index (`listByUser: false`): listByUser rejects; destroyByUser works only when the store has `all()`,
 *   by reading every session.
 * What it does give: the contract's round trips (the record's own userId and times ride along in the session object
 * under `__cloakroom`), expiry by this adapter's clock on every read, and `count` through `all()` (each session's
 * expiry checked; `length()` when there is no `all()`).
 */
import type { SessionPatch, SessionRecord, SessionStore, StoreCapabilities, StoredSession } from "../core/types.js";
import { expiresAtOf } from "../core/types.js";
import { applyDataPatch } from "./data-patch.js";

type Callback<T = unknown> = (error?: unknown, value?: T) => void;

/** The express-session Store interface (callbacks; an EventEmitter emitting "connect"/"disconnect"). */
export interface LegacyStore {
  get(sid: string, callback: Callback<LegacySession | null | undefined>): void;
  set(sid: string, session: LegacySession, callback?: Callback): void;
  destroy(sid: string, callback?: Callback): void;
  touch?(sid: string, session: LegacySession, callback?: Callback): void;
  all?(callback: Callback<LegacySession[] | Record<string, LegacySession> | null>): void;
  length?(callback: Callback<number>): void;
  clear?(callback?: Callback): void;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A session as express-session stores it: the data plus a `cookie` object. */
export interface LegacySession {
  cookie?: { originalMaxAge?: number | null; expires?: string | Date | null; [key: string]: unknown };
  [key: string]: unknown;
}

/** Where our record's own times live inside an express-session object (express-session keeps only cookie.expires). */
const META_KEY = "__cloakroom";

interface StoredMeta {
  /** The record's own userId (it need not be `data[identityKey]`); absent in what older versions wrote. */
  userId?: string | null;
  createdAt: number;
  touchedAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  version: number;
  meta: SessionRecord["meta"];
}

/** Options of {@link LegacyStoreAdapter}. */
export interface LegacyStoreAdapterOptions {
  /** The data key that names the user. @default "userId" */
  identityKey?: string;
  /** Lifetimes given to sessions that express-session wrote (they carry only cookie.expires). */
  idleTimeout: number;
  absoluteTimeout: number;
  /** @default Date.now */
  now?: () => number;
}

/** Whether a value looks like an express-session store (and not a SessionStore). */
export function isLegacyStore(store: unknown): store is LegacyStore {
  const s = store as Partial<LegacyStore> & { capabilities?: unknown } | null;
  return !!s && typeof s === "object" && s.capabilities === undefined && typeof s.get === "function" &&
    typeof s.set === "function" && typeof s.destroy === "function";
}

function call<T>(fn: (callback: Callback<T>) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    fn((error, value) => {
      // express-session treats ENOENT from get as "not found".
      if (error && (error as { code?: string }).code !== "ENOENT") reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(error ? undefined : value);
    });
  });
}

/**
 * Adapts an express-session store to the SessionStore contract.
 * @example
 * import { RedisStore } from "connect-redis";
 * app.use(session({ secret, store: new RedisStore({ client }) })); // wrapped automatically by cloakroom/express
 */
export class LegacyStoreAdapter implements SessionStore {
  readonly capabilities: StoreCapabilities;
  readonly legacy: LegacyStore;
  private connected = true;
  private readonly identityKey: string;
  private readonly options: LegacyStoreAdapterOptions;
  private readonly now: () => number;

  constructor(store: LegacyStore, options: LegacyStoreAdapterOptions) {
    this.legacy = store;
    this.options = options;
    this.identityKey = options.identityKey ?? "userId";
    this.now = options.now ?? Date.now;
    // Whole records: express-session stores have no per-key patch; the manager sends full records it loaded.
    this.capabilities = {
      listByUser: false,
      nativeTtl: true,
      count: typeof store.all === "function" || typeof store.length === "function",
      wholeRecords: true,
    };
    // express-session runs requests without a session while its store is disconnected; we fail closed instead.
    store.on?.("disconnect", () => {
      this.connected = false;
    });
    store.on?.("connect", () => {
      this.connected = true;
    });
  }

  private checkConnected(): void {
    if (!this.connected) throw new Error("the express-session store reported 'disconnect'");
  }

  async get(key: string): Promise<SessionRecord | null> {
    this.checkConnected();
    const sess = await call<LegacySession | null | undefined>((cb) => this.legacy.get(key, cb));
    if (!sess) return null;
    const record = this.toRecord(sess);
    return expiresAtOf(record) > this.now() ? record : null;
  }

  async create(key: string, record: SessionRecord): Promise<void> {
    this.checkConnected();
    await call((cb) => this.legacy.set(key, this.toLegacy(record), cb));
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const record = await this.get(key);
    if (!record) return false;
    const next: SessionRecord = {
      ...record,
      data: applyDataPatch({ ...record.data }, patch),
      idleExpiresAt: patch.idleExpiresAt ?? record.idleExpiresAt,
      touchedAt: patch.touchedAt ?? record.touchedAt,
      cookieMaxAge: patch.cookieMaxAge === undefined ? record.cookieMaxAge : patch.cookieMaxAge,
      version: record.version + 1,
    };
    await call((cb) => this.legacy.set(key, this.toLegacy(next), cb));
    return true;
  }

  /**
   * Slide the idle window and increment `version`: get, then a full `set`. Not the store's own `touch`: connect-redis's
   * only renews the TTL and express-session's MemoryStore's only replaces `cookie`, so touchedAt and version would
   * not move. Not atomic (see the class comment).
   */
  async touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> {
    const record = await this.get(key);
    if (!record) return false;
    const sess = this.toLegacy({ ...record, idleExpiresAt, touchedAt, version: record.version + 1 });
    await call((cb) => this.legacy.set(key, sess, cb));
    return true;
  }

  /** express-session's touch(sid, session) for a record the manager holds whole; a full set for a store without it. */
  async touchRecord(key: string, record: SessionRecord): Promise<void> {
    this.checkConnected();
    const sess = this.toLegacy(record);
    const touch = this.legacy.touch;
    await call((cb) => (touch ? touch.call(this.legacy, key, sess, cb) : this.legacy.set(key, sess, cb)));
  }

  async destroy(key: string): Promise<void> {
    this.checkConnected();
    await call((cb) => this.legacy.destroy(key, cb));
  }

  listByUser(): Promise<StoredSession[]> {
    return Promise.reject(new TypeError("listByUser: an express-session store has no per-user index"));
  }

  async destroyByUser(userId: string, options: { except?: string } = {}): Promise<number> {
    if (!this.legacy.all) throw new TypeError("destroyByUser: this express-session store has no all()");
    let count = 0;
    for (const [sid, sess] of await this.allEntries()) {
      if (!sid || sid === options.except) continue;
      if (this.toRecord(sess).userId === userId) {
        await this.destroy(sid);
        count++;
      }
    }
    return count;
  }

  /** Every `[sid, session]` the store's `all()` lists (an array with `id`s, as connect-redis gives, or an object). */
  private async allEntries(): Promise<[string, LegacySession][]> {
    const all = this.legacy.all!;
    const sessions = await call<LegacySession[] | Record<string, LegacySession> | null>((cb) => all.call(this.legacy, cb));
    return Array.isArray(sessions)
      ? sessions.map((s) => [String((s as { id?: unknown }).id ?? ""), s])
      : Object.entries(sessions ?? {});
  }

  async clear(): Promise<void> {
    const clear = this.legacy.clear;
    if (!clear) throw new TypeError("clear: this express-session store has no clear()");
    await call((cb) => clear.call(this.legacy, cb));
  }

  /**
   * How many live sessions there are, by this adapter's clock: through `all()` when the store has it (O(n), each
   * session's own expiry checked), else the store's `length()`, which counts what the store has not expired yet.
   */
  async count(): Promise<number> {
    if (this.legacy.all) return (await this.allEntries()).filter(([, sess]) => expiresAtOf(this.toRecord(sess)) > this.now()).length;
    const length = this.legacy.length;
    if (!length) throw new TypeError("count: this express-session store has neither all() nor length()");
    return (await call<number>((cb) => length.call(this.legacy, cb))) ?? 0;
  }

  async sweep(): Promise<number> {
    return 0; // express-session stores expire sessions themselves
  }

  async close(): Promise<void> {}

  private toLegacy(record: SessionRecord): LegacySession {
    const stored: StoredMeta = {
      userId: record.userId,
      createdAt: record.createdAt,
      touchedAt: record.touchedAt,
      idleExpiresAt: record.idleExpiresAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
      version: record.version,
      meta: record.meta,
    };
    // cookie.expires is what connect-redis, connect-pg-simple and memorystore derive their TTL from.
    return {
      ...record.data,
      cookie: { originalMaxAge: record.cookieMaxAge, expires: new Date(expiresAtOf(record)).toISOString(), httpOnly: true, path: "/" },
      [META_KEY]: stored,
    };
  }

  private toRecord(sess: LegacySession): SessionRecord {
    const { cookie, [META_KEY]: storedMeta, ...data } = sess;
    const now = this.now();
    const stored = storedMeta as StoredMeta | undefined;
    const expires = cookie?.expires ? new Date(cookie.expires).getTime() : NaN;
    const identity = data[this.identityKey];
    const derivedUserId = identity === undefined || identity === null ? null : String(identity);
    return {
      userId: stored?.userId !== undefined ? stored.userId : derivedUserId,
      data,
      createdAt: stored?.createdAt ?? now,
      touchedAt: stored?.touchedAt ?? now,
      idleExpiresAt: stored?.idleExpiresAt ?? (Number.isFinite(expires) ? expires : now + this.options.idleTimeout),
      absoluteExpiresAt: stored?.absoluteExpiresAt ?? now + this.options.absoluteTimeout,
      cookieMaxAge: typeof cookie?.originalMaxAge === "number" ? cookie.originalMaxAge : null,
      version: stored?.version ?? 0,
      meta: stored?.meta ?? {},
    };
  }
}
