/**
 * The one data-patch function of the JavaScript stores (memory, SQLite, Memcached; PostgreSQL and Redis merge in the
 * server but take their set/unset lists from {@link splitDataPatch} too), so they agree on every key.
 *
 * Prototype safety: data keys are plain strings, `__proto__`, `constructor`, `prototype` and `hasOwnProperty`
 * included, and are stored and read back as data. `Object.assign(data, set)` would run the `__proto__` setter (and
 * drop the key, or swap the object's prototype); keys are therefore defined with `Object.defineProperty`, and
 * records are copied with JSON.parse, spread or Object.fromEntries, which all define own properties.
 */
import type { SessionPatch } from "../core/types.js";

/** A data change with `undefined` values turned into deletions (JSON has no `undefined`: setting it is deleting). */
export interface DataChange {
  /** Keys to set, as own properties of a plain object, none `undefined`. */
  set: Record<string, unknown>;
  /** Keys to delete (`patch.unset` plus the keys `patch.set` gave `undefined`), minus the keys set. */
  unset: string[];
}

/** Define `target[key] = value` as an own enumerable data property, whatever the key (`__proto__` too). */
export function defineData(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The data half of `patch` in the form every store applies: see {@link DataChange}. A key set wins over its unset. */
export function splitDataPatch(patch: Pick<SessionPatch, "set" | "unset">): DataChange {
  const set: Record<string, unknown> = {};
  const unset = new Set(patch.unset ?? []);
  for (const [key, value] of Object.entries(patch.set ?? {})) {
    if (value === undefined) {
      unset.add(key);
    } else {
      defineData(set, key, value);
      unset.delete(key);
    }
  }
  return { set, unset: [...unset] };
}

/**
 * Apply the data half of `patch` to `data` in place and return it: unset first, then set (SessionPatch's rule: a key
 * in both ends up set), every key as own data.
 */
export function applyDataPatch(data: Record<string, unknown>, patch: Pick<SessionPatch, "set" | "unset">): Record<string, unknown> {
  const change = splitDataPatch(patch);
  for (const key of change.unset) delete data[key];
  for (const [key, value] of Object.entries(change.set)) defineData(data, key, value);
  return data;
}
