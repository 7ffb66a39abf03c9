/**
 * What a target reads off one bench run, one rule for `bench:instructions` and `npm run bench`: "met", "missed",
 * "not measured", or why the run cannot tell. Neither may print "met" for a run that went wrong: a row that answered
 * non-2xx or lost requests ("invalid"), or a session setup that cost less than its framework without sessions
 * ("suspect": a session layer cannot cost nothing; session 8's RedisStore row, whose run shared its Redis keys with
 * another bench, read 959k against bare Express's 1,085k and was printed "met").
 */
export type Verdict = "met" | "missed" | "not measured" | `invalid: ${string}` | `suspect: ${string}`;

export interface TargetReading {
  /** The figure compared with the threshold, higher is better; undefined when a row is missing. */
  value: number | undefined;
  threshold: number;
  /** Why a row the figure comes from is unusable (from {@link loadProblem}), if one is. */
  invalid?: string | undefined;
  /** Why the figure cannot be right although every request succeeded (from {@link cheaperThanBare}), if so. */
  suspect?: string | undefined;
}

/** The verdict on one target: a reason not to believe the run comes before the comparison. */
export function verdictOf(reading: TargetReading): Verdict {
  if (reading.invalid !== undefined) return `invalid: ${reading.invalid}`;
  if (reading.value === undefined || !Number.isFinite(reading.value)) return "not measured";
  if (reading.suspect !== undefined) return `suspect: ${reading.suspect}`;
  return reading.value >= reading.threshold ? "met" : "missed";
}

/** What one load run must have done: every request answered 2xx, exactly `expected` of them when a count was asked. */
export interface LoadOutcome {
  total: number;
  non2xx: number;
  errors: number;
}

/** Why a load run's figures are unusable, or undefined when they are not. */
export function loadProblem(result: LoadOutcome, expected?: number): string | undefined {
  if (result.non2xx + result.errors > 0) return `${result.non2xx} non-2xx and ${result.errors} errors`;
  if (expected !== undefined && result.total !== expected) return `the load generator sent ${result.total} requests instead of ${expected}`;
  return undefined;
}

/**
 * A session setup's cost (instructions per request) below its bare framework's: impossible for code that does the
 * bare framework's work and more, so the run was disturbed. Undefined when either figure is missing or it is not lower.
 */
export function cheaperThanBare(setup: number | null | undefined, bare: number | null | undefined): string | undefined {
  if (setup === null || setup === undefined || bare === null || bare === undefined || setup >= bare) return undefined;
  return `cheaper than bare (${Math.round(setup / 1000)}k vs ${Math.round(bare / 1000)}k per request)`;
}
