/**
 * Which index buckets this store has already seen live until a given hour, so that CREATE (redis-scripts.ts) checks a
 * bucket's expiry only when a new member may outlive it. Checking on every create (then EXPIRETIME, and EXPIREAT when
 * short) was a seventh of Redis's instructions per logged-in session (callgrind of redis-server: 43.3k against 37.3k
 * with one check in eight); in a burst of creates, whose absolute expiries fall in the same hour, a bucket needs it
 * once. The buckets a batch checked are recorded in one call once it succeeded (redis-create-batch.ts).
 *
 * Why skipping is safe: a bucket's expiry only ever moves later (every writer extends, none shortens), so once a
 * CREATE has made a bucket live until hour H, it still does — unless the bucket was deleted meanwhile (its last member
 * removed, or clear()), and a bucket recreated by a later ZADD has no expiry at all, which keeps its members longer,
 * never shorter. A bucket is recorded only after the CREATE that checked it succeeded: a failed or lost batch records
 * nothing, and a batch sent before that success checks again.
 *
 * The record is a direct-mapped table of fixed size (a bucket overwrites the slot of another): a miss only costs the
 * check. 2 × 4 bytes a slot, allocated on the first logged-in create.
 */

/** Slots in the table: every bucket of the default 131,072 has its own; past that, buckets share slots. */
const SLOTS = 1 << 17;
const SECONDS_PER_HOUR = 3600;

export class BucketExpiries {
  /** slot → bucket + 1 (0 = empty) */
  private buckets: Uint32Array | null = null;
  /** slot → the hour (since the epoch) the bucket is known to live until */
  private hours: Uint32Array | null = null;

  /** The hour (since the epoch) a member of score `score` (s) needs its bucket to live until. */
  static hourOf(score: number): number {
    return Math.ceil(score / SECONDS_PER_HOUR);
  }

  /** Whether the bucket may expire before `hour`, as far as this store knows: then CREATE must check it. */
  mayExpireBefore(bucket: number, hour: number): boolean {
    const slot = bucket & (SLOTS - 1);
    return this.buckets === null || this.buckets[slot] !== bucket + 1 || this.hours![slot]! < hour;
  }

  /** Record that a successful CREATE made `bucket` live until `hour` at least. */
  record(bucket: number, hour: number): void {
    if (this.buckets === null) {
      this.buckets = new Uint32Array(SLOTS);
      this.hours = new Uint32Array(SLOTS);
    }
    const slot = bucket & (SLOTS - 1);
    if (this.buckets[slot] === bucket + 1 && this.hours![slot]! >= hour) return;
    this.buckets[slot] = bucket + 1;
    this.hours![slot] = hour;
  }
}
