/**
 * How the stores that sweep inside this process (memory, SQLite) share the event loop: work for one slice of real
 * time, yield with `setImmediate` (timers, I/O and other requests run), go on. Sized by time rather than by count:
 * what one record costs varies by an order of magnitude with the machine and its load, the record, and for SQLite
 * with how many index pages a delete touches and whether the commit runs a WAL checkpoint (bench:sweep measured
 * 5–60 µs per row, so a fixed batch of 1,000 rows stalled for 40–480 ms).
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

/**
 * Real time (ms) a sweep works between two yields. It reads `performance.now()`, not the store's injected `now`:
 * the injected clock decides what is expired, this one measures work.
 */
export const SWEEP_SLICE_MS = 5;

/** Paces one sweep: {@link spent} once a slice of work is done, {@link yield} to let the event loop run. */
export class SweepPacer {
  readonly #clock: () => number;
  #sliceStarted: number;

  /** @param clock ms of real time (a parameter so a test can drive it) @default performance.now */
  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#sliceStarted = clock();
  }

  /** Whether the current slice has used its {@link SWEEP_SLICE_MS}. */
  spent(): boolean {
    return this.#clock() - this.#sliceStarted >= SWEEP_SLICE_MS;
  }

  /** Let the event loop run (one `setImmediate`), then start a new slice. */
  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.#sliceStarted = this.#clock();
  }
}

/**
 * The size of a sweep's next batch statement, from how long the last one took: halved after a batch that overran
 * the slice, doubled after one that used less than half of it, always within `[1, max]`.
 * @param size the last batch's size
 * @param tookMs how long its statement ran (ms)
 * @param max the largest batch allowed (the store's `sweepBatchSize`)
 */
export function nextBatchSize(size: number, tookMs: number, max: number): number {
  if (tookMs > SWEEP_SLICE_MS) return Math.max(1, Math.floor(size / 2));
  if (tookMs < SWEEP_SLICE_MS / 2) return Math.min(max, size * 2);
  return Math.min(max, size);
}
