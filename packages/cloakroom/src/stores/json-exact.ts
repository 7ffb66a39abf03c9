/** A check CachedStore uses to copy cached records with JSON.parse instead of structuredClone where that is exact. */

/**
 * Whether JSON.stringify then JSON.parse gives `value` back exactly: only strings, booleans, null, finite numbers
 * (not -0), arrays and plain objects without `undefined` members or a toJSON. Checked once per fill, not per hit.
 */
export function jsonExact(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== "object" || depth > 64) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonExact(value[i], depth + 1)) return false;
    return Object.getPrototypeOf(value) === Array.prototype;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.getOwnPropertyNames(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!descriptor.enumerable || !("value" in descriptor) || key === "toJSON") return false;
    if (!jsonExact(descriptor.value, depth + 1)) return false;
  }
  return true;
}
