/**
 * Where RedisStore indexes a user's sessions. Not one key per user (a Redis key costs ~100 B before its first byte of
 * content): the index is spread over a fixed number of sorted sets ("buckets", `P i:<n>`), each holding the members
 * `<tag><session key>` of many users, score = absoluteExpiresAt in seconds (rounded up). The bucket and the 8-hex-digit
 * tag both come from SHA-1 of the owner (redis-codec.ts's `encodeOwner`); the scripts recompute the tag with
 * `redis.sha1hex` to prune. Two users may share a tag: every listed session's record is checked for its owner.
 * A bucket stays listpack-encoded (a few bytes per member) while it holds at most `zset-max-listpack-entries` (128)
 * members of at most `zset-max-listpack-value` (64) bytes: with the default 131,072 buckets, up to ~16 million
 * logged-in sessions.
 */
import { hash } from "node:crypto";
import { decimalOf } from "./redis-codec.js";

/** @see RedisStoreOptions.indexBuckets */
export const DEFAULT_INDEX_BUCKETS = 131_072;
const MAX_INDEX_BUCKETS = 1 << 24;
const TAG_LENGTH = 8;

/** A user's place in the index: which bucket (its number) and the tag that starts each of their members. */
export interface IndexSlot {
  bucket: number;
  tag: string;
}

/** @throws {TypeError} unless `buckets` is an integer in [1, 2^24] */
export function checkIndexBuckets(buckets: unknown): number {
  if (!Number.isInteger(buckets) || (buckets as number) < 1 || (buckets as number) > MAX_INDEX_BUCKETS) {
    throw new TypeError(`RedisStore: the indexBuckets option must be an integer from 1 to ${MAX_INDEX_BUCKETS}`);
  }
  return buckets as number;
}

/** The bucket and tag of an owner (its encoded form). */
export function indexSlotOf(owner: string, buckets: number): IndexSlot {
  // crypto.hash (Node ≥ 20.12): one call, no Hash object — a fifth of createHash's cost on every logged-in create.
  const hex = hash("sha1", owner, "hex");
  return { bucket: parseInt(hex.slice(TAG_LENGTH, TAG_LENGTH + 6), 16) % buckets, tag: hex.slice(0, TAG_LENGTH) };
}

/** An index score: the absolute expiry in whole seconds, rounded up so a member is never pruned early. */
export function indexScore(absoluteExpiresAt: number): string {
  return decimalOf(Math.ceil(absoluteExpiresAt / 1000));
}

/** "now" for pruning: members whose score is at most this are past their absolute expiry. */
export function indexNow(now: number): string {
  return decimalOf(Math.floor(now / 1000));
}
