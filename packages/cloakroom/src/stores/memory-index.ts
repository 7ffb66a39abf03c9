/**
 * MemoryStore's per-user index: which keys may belong to a user. Keyed by a 30-bit hash of the user id, not by the
 * id itself: a small integer is held in the Map entry with no string behind it (~32 B less per signed-in session, a
 * third of what the index cost). Different users can share a hash, so a bucket lists candidates: callers keep only
 * the keys whose record names the user (the record holds its userId anyway). At a million users ~500 pairs collide.
 *
 * The buckets are spread over {@link SHARDS} Maps by the hash's low bits. One Map of a million entries rehashes
 * all of its survivors in one step when deletions leave it under a quarter full (V8 shrinks an OrderedHashMap on
 * delete): during a sweep of a million expired sessions that was one ~80 ms stall for this index alone, where 64
 * shards shrink one at a time, each about 1/64 of that.
 */

/** How many Maps the buckets are spread over (a power of two: the shard is `hash & (SHARDS - 1)`). */
const SHARDS = 64;

/** FNV-1a over UTF-16 code units, folded to 30 bits so it is a small integer (a Smi) on every V8 build. */
function userHash(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193);
  return hash & 0x3fffffff;
}

/**
 * hash → its keys. A bucket with one key (the common case) is the key string itself, shared with the store's record
 * map; a Set costs ~150 B more and is made only from the second key on.
 */
export class UserIndex {
  readonly #shards = Array.from({ length: SHARDS }, () => new Map<number, string | Set<string>>());

  add(userId: string, key: string): void {
    const hash = userHash(userId);
    const buckets = this.#shards[hash & (SHARDS - 1)]!;
    const keys = buckets.get(hash);
    if (keys === undefined) buckets.set(hash, key);
    else if (typeof keys !== "string") keys.add(key);
    else if (keys !== key) buckets.set(hash, new Set([keys, key]));
  }

  remove(userId: string, key: string): void {
    const hash = userHash(userId);
    const buckets = this.#shards[hash & (SHARDS - 1)]!;
    const keys = buckets.get(hash);
    if (keys === undefined) return;
    if (typeof keys === "string") {
      if (keys === key) buckets.delete(hash);
      return;
    }
    keys.delete(key);
    if (keys.size === 0) buckets.delete(hash);
    else if (keys.size === 1) buckets.set(hash, keys.values().next().value!); // back to the compact form
  }

  /** A snapshot of the keys that may be the user's (callers check each record's userId, and may remove meanwhile). */
  candidates(userId: string): string[] {
    const hash = userHash(userId);
    const keys = this.#shards[hash & (SHARDS - 1)]!.get(hash);
    if (keys === undefined) return [];
    return typeof keys === "string" ? [keys] : [...keys];
  }

  clear(): void {
    for (const buckets of this.#shards) buckets.clear();
  }
}
