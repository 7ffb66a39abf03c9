/**
 * cloakroom — server-stateful sessions: the browser holds an opaque signed ticket, the server keeps the coat.
 * This entry: the framework-free engine, the MemoryStore and the shared types.
 */
export { SessionManager, isSessionStore } from "./core/manager.js";
export type { SessionManagerOptions, RequestContext, SessionEvent, SessionSummary } from "./core/manager.js";
export { Session, SessionCookie } from "./core/session.js";
export { ServiceUnavailableError, SessionStoreUnavailableError } from "./core/errors.js";
export { createSigner } from "./core/signing.js";
export type { Signer, UnsignResult } from "./core/signing.js";
export { generateTicket, storeKeyOf, logLabelOf } from "./core/ticket.js";
export { DEFAULT_IDLE_TIMEOUT, DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_TOUCH_AFTER } from "./core/timeouts.js";
export type { TimeoutPolicy } from "./core/timeouts.js";
export type { CookieOptions } from "./core/cookie.js";
export { expiresAtOf } from "./core/types.js";
export type {
  SessionData,
  SessionMeta,
  SessionRecord,
  SessionPatch,
  SessionStore,
  StoredSession,
  StoreCapabilities,
  BaseStoreOptions,
} from "./core/types.js";
export { MemoryStore } from "./stores/memory.js";
export type { MemoryStoreOptions } from "./stores/memory.js";
export { LegacyStoreAdapter, isLegacyStore } from "./stores/legacy.js";
export type { LegacyStore, LegacySession } from "./stores/legacy.js";
