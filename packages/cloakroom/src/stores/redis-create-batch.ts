/**
 * The logged-in creates of one tick in one CREATE script call (redis-scripts.ts), where a session and its index
 * bucket share a slot. Each script call costs Redis a fixed ~3 µs and the client a command (a Command object, its
 * promise, its RESP framing), which at a million creates is more than the writes themselves; a batch pays them once.
 * Measured on 1 M creates (bench/README.md, issue 13).
 *
 * Order: a batch is sent at the end of the tick, or before any other command of the store is written (the store calls
 * {@link CreateBatch.flush} first), so the store's commands still reach Redis in the order they were issued: a create
 * followed by a destroy of the same key in one tick is never reordered into a resurrection.
 */

/** The most sessions one CREATE call writes: the script holds Redis while it runs (~10 µs a session). */
export const MAX_BATCH = 64;

interface Batch {
  keys: string[];
  args: string[];
  settlers: Array<{ resolve(): void; reject(error: unknown): void }>;
}

export class CreateBatch {
  private open: Batch | null = null;

  /** @param send writes one batch: CREATE with these KEYS and ARGV */
  constructor(private readonly send: (keys: string[], args: string[]) => Promise<unknown>) {}

  /** Queue a session (its key and bucket, its CREATE arguments); resolves once its batch is written. */
  add(sessionKey: string, bucketKey: string, args: string[]): Promise<void> {
    let batch = this.open;
    if (batch === null) {
      const opened: Batch = { keys: [], args: [], settlers: [] };
      this.open = batch = opened;
      process.nextTick(() => this.close(opened));
    }
    batch.keys.push(sessionKey, bucketKey);
    for (const arg of args) batch.args.push(arg);
    const written = new Promise<void>((resolve, reject) => batch.settlers.push({ resolve, reject }));
    if (batch.settlers.length === MAX_BATCH) this.close(batch);
    return written;
  }

  /** Send the open batch now, if there is one (before another command of the store is written). */
  flush(): void {
    if (this.open !== null) this.close(this.open);
  }

  /** Send a batch unless it was sent already (full, or flushed before its tick ended). */
  private close(batch: Batch): void {
    if (this.open !== batch) return;
    this.open = null;
    this.send(batch.keys, batch.args).then(
      () => batch.settlers.forEach((settler) => settler.resolve()),
      (error: unknown) => batch.settlers.forEach((settler) => settler.reject(error)),
    );
  }
}
