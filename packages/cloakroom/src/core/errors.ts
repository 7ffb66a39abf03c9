/** Errors that cross layers. Normal outcomes ("no session", "bad signature") are values, not errors. */

/**
 * A backend the request needs is unavailable (a database, a cache, a rate-limit store). Adapters and the error
 * handlers of apps answer 503 with a short message: a request that needs it fails closed.
 */
export class ServiceUnavailableError extends Error {
  readonly status = 503;
  readonly statusCode = 503;
  /** Safe to show to a client (express's error handler honours `expose`); the message names no internals. */
  readonly expose = true;
  readonly code: string;

  constructor(message: string, options: { code: string; cause: unknown }) {
    super(message, { cause: options.cause });
    this.name = "ServiceUnavailableError";
    this.code = options.code;
  }
}

/**
 * The session store failed (unreachable, timed out, refused). A session route fails closed: it never runs as
 * "anonymous".
 */
export class SessionStoreUnavailableError extends ServiceUnavailableError {
  constructor(operation: string, cause: unknown) {
    super(`Session store unavailable (${operation})`, { code: "SESSION_STORE_UNAVAILABLE", cause });
    this.name = "SessionStoreUnavailableError";
  }
}

/**
 * Run a store call and turn any failure into a {@link SessionStoreUnavailableError} that keeps the cause.
 * Not an async function: on the hot path one `.then` costs less than an async frame around an `await`.
 */
export function callStore<T>(operation: string, call: () => Promise<T>): Promise<T> {
  const wrap = (error: unknown): never => {
    if (error instanceof SessionStoreUnavailableError || error instanceof TypeError) throw error;
    throw new SessionStoreUnavailableError(operation, error);
  };
  try {
    return call().then(undefined, wrap);
  } catch (error) {
    return Promise.reject(error).then(undefined, wrap);
  }
}
