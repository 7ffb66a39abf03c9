/**
 * Counting store calls from inside the server (BENCH_COUNT=1): each method is wrapped on the instance, so the
 * library itself is untouched. Covers cloakroom's SessionStore and express-session's Store method names.
 */
export type CallCounts = Record<string, number>;

const METHODS = ["get", "create", "patch", "touch", "destroy", "set"];
/** The calls that write to the store. */
export const WRITE_METHODS = ["create", "patch", "touch", "destroy", "set"];

export function countStoreCalls(store: object): CallCounts {
  const counts: CallCounts = {};
  const target = store as Record<string, unknown>;
  for (const name of METHODS) {
    const original = target[name];
    if (typeof original !== "function") continue;
    counts[name] = 0;
    target[name] = function counted(this: unknown, ...args: unknown[]) {
      counts[name]! += 1;
      return (original as (...a: unknown[]) => unknown).apply(store, args);
    };
  }
  return counts;
}
