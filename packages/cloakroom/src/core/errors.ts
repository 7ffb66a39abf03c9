/** Errors that cross layers. Normal outcomes ("no session", "bad signature") are values, not errors. */

/**
 * The session store failed (unreachable, timed out, refused). Adapters answer 503: a session route fails closed,
 * it never runs as "anonymous".
 */
export class SessionStoreUnavailableError extends Error {
  readonly code = "SESSION_STORE_UNAVAILABLE";
  readonly status = 503;
  readonly statusCode = 503;
  /** Safe to show to a client (express's error handler honours `expose`). */
  readonly expose = true;

  constructor(operation: string, cause: unknown) {
    super(`Session store unavailable (${operation})`, { cause });
    this.name = "SessionStoreUnavailableError";
  }
}

/** Run a store call and turn any failure into a {@link SessionStoreUnavailableError} that keeps the cause. */
export async function callStore<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SessionStoreUnavailableError || error instanceof TypeError) throw error;
    throw new SessionStoreUnavailableError(operation, error);
  }
}
