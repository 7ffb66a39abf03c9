/** A SessionStore decorator that times every call into the store latency histogram. */
import type { SessionPatch, SessionRecord, SessionStore, StoredSession } from "cloakroom";
import type { Histogram } from "prom-client";

/**
 * Wrap a store so each operation is observed as `cloakroom_session_store_duration_seconds{operation,outcome}`.
 * Behaviour is unchanged: results and rejections pass through.
 * @example const store = instrumentStore(new SqliteStore({ path }), metrics.storeLatency);
 */
export function instrumentStore(store: SessionStore, histogram: Histogram<"operation" | "outcome">): SessionStore {
  async function timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const stop = histogram.startTimer({ operation });
    try {
      const result = await run();
      stop({ outcome: "ok" });
      return result;
    } catch (error) {
      stop({ outcome: "error" });
      throw error;
    }
  }
  return {
    get capabilities() {
      return store.capabilities;
    },
    get: (key: string): Promise<SessionRecord | null> => timed("get", () => store.get(key)),
    create: (key: string, record: SessionRecord): Promise<void> => timed("create", () => store.create(key, record)),
    patch: (key: string, patch: SessionPatch): Promise<boolean> => timed("patch", () => store.patch(key, patch)),
    touch: (key: string, idleExpiresAt: number, touchedAt: number): Promise<boolean> =>
      timed("touch", () => store.touch(key, idleExpiresAt, touchedAt)),
    destroy: (key: string): Promise<void> => timed("destroy", () => store.destroy(key)),
    listByUser: (userId: string): Promise<StoredSession[]> => timed("listByUser", () => store.listByUser(userId)),
    destroyByUser: (userId: string, options?: { except?: string }): Promise<number> =>
      timed("destroyByUser", () => store.destroyByUser(userId, options)),
    clear: (): Promise<void> => timed("clear", () => store.clear()),
    count: (): Promise<number> => timed("count", () => store.count()),
    sweep: (): Promise<number> => timed("sweep", () => store.sweep()),
    close: (): Promise<void> => store.close(),
  };
}
