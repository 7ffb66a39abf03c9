/**
 * Work that runs after the response: mail, mostly. A forgot-password request answers before it looks anything up, so
 * a known and an unknown address take the same time (OWASP Forgot Password CS: "consistent response time"). Failures
 * are logged, never thrown at a client that has already been answered; shutdown and tests wait with `drain()`.
 */
import type { Logger } from "pino";

/** Tracks the tasks started after a response. */
export interface BackgroundTasks {
  /** Start `task` once the current I/O turn is over, without waiting for it; a rejection is logged as `background task failed` with `name`. */
  run(name: string, task: () => Promise<unknown>): void;
  /** Resolves once every task started so far (and any they started) has settled. */
  drain(): Promise<void>;
}

/**
 * Create the tracker.
 * @example
 * background.run("password_reset", () => sendResetMail(email));
 * res.status(202).json(ACCEPTED);
 */
export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const pending = new Set<Promise<void>>();
  return {
    run(name, task) {
      // setImmediate, not a microtask: the response is written to the socket first.
      const settled: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .then(
          () => undefined,
          (error: unknown) => logger.error({ err: error, task: name }, "background task failed"),
        )
        .finally(() => pending.delete(settled));
      pending.add(settled);
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
