/**
 * The shapes every layer agrees on: what a store keeps and the contract a store implements.
 *
 * Times are epoch milliseconds everywhere. A store never sees the ticket from the cookie, only its key
 * (`base64url(SHA-256(ticket))`, 43 characters) — except legacy express-session stores, which get the raw id.
 */

/**
 * The application's session data. Extend it by declaration merging:
 *
 * @example
 * declare module "cloakroom" {
 *   interface SessionData { userId: string; cart: string[] }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface so users can merge into it
export interface SessionData {}

/** What a client looked like when its session was created: shown in a "your devices" list, never used to decide access. */
export interface SessionMeta {
  /** The client's IP address as the framework resolved it (trust proxy honoured). */
  ip?: string;
  /** The `User-Agent` header, truncated to 512 characters. */
  userAgent?: string;
}

/** One session as a store keeps it. */
export interface SessionRecord {
  /** Copied from `data[identityKey]` (stringified) so the store can index sessions by user; `null` when anonymous. */
  userId: string | null;
  /** The application's data: top-level keys are the unit of change (see {@link SessionPatch}). JSON-serializable. */
  data: Record<string, unknown>;
  /** When the session was created (ms). Immutable. */
  createdAt: number;
  /** When the session was last seen by the server and that was written (ms). */
  touchedAt: number;
  /** The session dies at this time unless touched again (ms). */
  idleExpiresAt: number;
  /** The session dies at this time whatever happens (ms). Immutable. */
  absoluteExpiresAt: number;
  /**
   * The cookie's Max-Age in ms for a persistent ("remember me") session, `null` for a browser-session cookie.
   * When set it is also this session's idle window (express-session's meaning of `cookie.maxAge`).
   */
  cookieMaxAge: number | null;
  /** Incremented by the store on every patch and touch. */
  version: number;
  /** Device information captured at creation. Immutable. */
  meta: SessionMeta;
}

/** `min(idleExpiresAt, absoluteExpiresAt)`: the moment a record stops existing, and what a store's native TTL uses. */
export function expiresAtOf(record: Pick<SessionRecord, "idleExpiresAt" | "absoluteExpiresAt">): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}

/**
 * A change to an existing record, applied atomically by {@link SessionStore.patch}.
 * Only the named top-level data keys change, so two requests that change different keys both survive.
 */
export interface SessionPatch {
  /**
   * Top-level data keys to set (replacing the whole value of each key), as own properties (`__proto__` included:
   * define it, JSON.parse it, never assign it). A key set to `undefined` is deleted.
   */
  set?: Record<string, unknown>;
  /** Top-level data keys to delete. A key in both `set` and `unset` is set. */
  unset?: string[];
  /** New idle expiry (ms); absent = unchanged. Never moves past `absoluteExpiresAt` (the manager clamps it). */
  idleExpiresAt?: number;
  /** New last-seen time (ms); absent = unchanged. */
  touchedAt?: number;
  /** New cookie Max-Age (ms) or `null`; absent = unchanged. */
  cookieMaxAge?: number | null;
}

/** One entry of a user's session list. */
export interface StoredSession {
  /** The store key (a hash of the ticket: safe to show to the session's owner, useless as a cookie). */
  key: string;
  record: SessionRecord;
}

/** What a backend can do; the manager and the contract suite adapt to it. */
export interface StoreCapabilities {
  /** `listByUser` works. False for Memcached (no secondary index). */
  listByUser: boolean;
  /** Records disappear by themselves at `expiresAt` (Redis, Memcached); others need {@link SessionStore.sweep}. */
  nativeTtl: boolean;
  /** `count` works (for the active-sessions gauge). */
  count: boolean;
  /**
   * Writes replace whole records: there is no atomic per-key patch (express-session stores behind
   * {@link SessionStore.touchRecord}). The manager then sends whole records through `create` (which overwrites) and
   * `touchRecord`, built from what the request loaded, as express-session does. Absent = false.
   */
  wholeRecords?: boolean;
}

/**
 * The SessionStore contract. Promise-only; every method may reject with an infrastructure error
 * (keeping the driver's error as `cause`), which the adapters turn into 503.
 *
 * Rules every implementation follows (the contract suite in `cloakroom/testing` checks them):
 * - A record whose `min(idleExpiresAt, absoluteExpiresAt) <= now()` is never returned, before or after a sweep.
 * - `patch` and `touch` never create a record: on a missing or expired key they change nothing and resolve `false`.
 *   A session destroyed on one connection is therefore not resurrected by an in-flight patch from another.
 * - Keys are opaque strings (any characters, up to at least 10 kB); they are never interpreted as patterns or SQL.
 * - A store stamps nothing of its own into `data`; `get` returns exactly what `create` + `patch` produced.
 * - Data keys are plain strings: `__proto__`, `constructor`, `prototype`, `hasOwnProperty` are stored and returned as
 *   own data properties (never as a prototype); a `set` to `undefined` deletes the key (JSON has no `undefined`).
 * - Infrastructure failures reject with `Error("<Store>.<operation> failed: <cause's message>", { cause })`.
 */
export interface SessionStore {
  readonly capabilities: StoreCapabilities;

  /**
   * Read one session.
   * @param key the store key
   * @returns the record, or `null` when missing or expired
   */
  get(key: string): Promise<SessionRecord | null>;

  /**
   * Optional: answer `get` synchronously when the answer is already in this process's memory (the memory store, a
   * local cache hit), so a request whose session is at hand pays no promise hop. Same rules as `get` (never an expired
   * record), except one: the record may be shared between reads, deeply frozen (the record, its data and meta frozen
   * all the way down, so no reader can change it for the next). Its data must hold only JSON values: the engine copies
   * a peeked record's object values (from their JSON) before the application sees them. A record whose data JSON would
   * not give back exactly (a Date, a class instance) is left to get. `undefined` means "not known without I/O (or not
   * JSON): call get".
   * @param key the store key
   * @param now `Date.now()` as the caller has just read it, given only when the caller's clock is `Date.now`: a store
   * whose clock is `Date.now` too may judge expiry by it instead of reading the clock again (one reading a request);
   * a store with another clock ignores it
   * @returns the record, `null` when missing or expired, or `undefined` to defer to {@link SessionStore.get}
   */
  peek?(key: string, now?: number): SessionRecord | null | undefined;

  /**
   * Store a new record under a new key (the manager only creates keys it generated). Indexes it by `record.userId`.
   * Overwrites an existing record with the same key (practically impossible with 256-bit tickets).
   */
  create(key: string, record: SessionRecord): Promise<void>;

  /**
   * Apply a per-key change atomically and increment `version`.
   * @returns `true` if applied, `false` if the record is missing or expired (nothing is written then)
   */
  patch(key: string, patch: SessionPatch): Promise<boolean>;

  /**
   * Slide the idle window: set `idleExpiresAt` and `touchedAt`, increment `version`, extend the native TTL.
   * @returns `true` if applied, `false` if the record is missing or expired
   */
  touch(key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean>;

  /**
   * Only for stores with `capabilities.wholeRecords`: slide the idle window of a record the caller holds whole
   * (express-session's `touch(sid, session)`, or a full write for a store without touch).
   */
  touchRecord?(key: string, record: SessionRecord): Promise<void>;

  /** Delete one record and its index entry. Deleting a missing key is not an error. */
  destroy(key: string): Promise<void>;

  /**
   * The live sessions of one user (expired ones are left out, and pruned from the index where cheap).
   * Order: newest `createdAt` first. Rejects with a `TypeError` when `capabilities.listByUser` is false.
   */
  listByUser(userId: string): Promise<StoredSession[]>;

  /**
   * Delete every session of one user, except the key in `options.except`.
   * @returns how many were deleted (stores without an index may report 0 while still revoking)
   */
  destroyByUser(userId: string, options?: { except?: string }): Promise<number>;

  /**
   * Delete every record. Used by operators ("revoke all sessions") and tests. Only touches this store's own keys
   * (its prefix, table or namespace).
   */
  clear(): Promise<void>;

  /** How many live sessions there are. Rejects with a `TypeError` when `capabilities.count` is false. */
  count(): Promise<number>;

  /**
   * Remove expired records in batches and resolve how many were removed. A no-op resolving 0 for native-TTL stores.
   * Stores with a timer call it themselves; it is public for operators (`cloakroom sessions sweep`) and tests.
   */
  sweep(): Promise<number>;

  /** Stop timers and release connections the store opened itself (not clients passed in by the caller). */
  close(): Promise<void>;
}

/** Options every built-in store accepts. */
export interface BaseStoreOptions {
  /**
   * The clock (ms since epoch), injectable so tests can move time.
   * @default Date.now
   */
  now?: () => number;
}
