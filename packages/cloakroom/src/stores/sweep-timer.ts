/**
 * The one background sweeper of the stores without native expiry (memory, SQLite, PostgreSQL): an unref'd interval
 * that runs the store's sweep(), skips a tick while the previous sweep still runs, reports failures as process
 * warnings (a background sweep has no caller to reject to; the next tick retries) and stops on close.
 */
import { storeError } from "./store-error.js";

/** setInterval's largest delay; anything above silently becomes 1 ms in Node. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** A running sweep timer. */
export interface SweepTimer {
  /** Stop ticking and resolve once a sweep in progress has settled. Calling it again is harmless. */
  stop(): Promise<void>;
}

const STOPPED: SweepTimer = Object.freeze({ stop: () => Promise.resolve() });

/**
 * Whether `value` is a valid `sweepInterval` option (ms; `0` = no timer).
 * @throws {TypeError} naming the store and the option otherwise
 */
export function checkSweepInterval(store: string, value: unknown): void {
  if (value === undefined) return;
  if (!(typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_TIMER_DELAY)) {
    throw new TypeError(
      `${store}: the sweepInterval option must be a number of ms between 0 (off) and ${MAX_TIMER_DELAY} (got ${String(value)})`,
    );
  }
}

/**
 * Call `sweep` every `interval` ms in the background.
 * @param store the store's class name, for the warning a failed sweep emits (`<store>.sweep failed: …`)
 * @param interval ms between two sweeps; `0` starts no timer
 * @param sweep the store's sweep; its rejection is reported, never thrown
 */
export function startSweepTimer(store: string, interval: number, sweep: () => Promise<unknown>): SweepTimer {
  if (!(interval > 0)) return STOPPED;
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return; // a slow sweep is still going: skip this tick rather than pile up
    running = sweep()
      .then(
        () => undefined,
        (error: unknown) => process.emitWarning(storeError(store, "sweep", error)),
      )
      .finally(() => {
        running = undefined;
      });
  }, interval);
  timer.unref(); // never keep a process alive just to sweep
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
