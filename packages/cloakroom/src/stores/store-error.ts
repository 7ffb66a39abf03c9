/**
 * The one shape of a store's infrastructure failure, shared by every built-in store:
 * `Error("<Store>.<operation> failed: <cause's message>", { cause })`, e.g. `MemcachedStore.get failed: connect
 * ECONNREFUSED 127.0.0.1:11211`. The driver's error stays reachable as `cause` (DESIGN.md, "Errors").
 */

/** A store operation failed because its backend did (unreachable, timed out, refused). */
export class StoreOperationError extends Error {
  override name = "StoreOperationError";

  /**
   * @param store the store's class name, e.g. `"RedisStore"`
   * @param operation the contract method (or internal step) that failed, e.g. `"get"`
   * @param cause the driver's error
   */
  constructor(
    readonly store: string,
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${store}.${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Wrap a driver failure in the shared shape. An error that is already this store's (a failure of an inner step,
 * such as PostgresStore's lazy migration) is returned as it is rather than wrapped twice.
 */
export function storeError(store: string, operation: string, cause: unknown): Error {
  if (cause instanceof StoreOperationError && cause.store === store) return cause;
  return new StoreOperationError(store, operation, cause);
}

/** Run an async store step, rejecting with {@link storeError} when it fails. */
export async function guardStore<T>(store: string, operation: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw storeError(store, operation, error);
  }
}

/** Run a synchronous driver call (better-sqlite3), throwing {@link storeError} when it fails. */
export function guardStoreSync<T>(store: string, operation: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw storeError(store, operation, error);
  }
}
