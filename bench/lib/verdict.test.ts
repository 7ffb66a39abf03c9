import { describe, expect, it } from "vitest";
import { cheaperThanBare, loadProblem, verdictOf } from "./verdict.js";

describe("bench verdicts", () => {
  it("compares the figure with the threshold when the run can be believed", () => {
    expect(verdictOf({ value: 0.96, threshold: 0.95 })).toBe("met");
    expect(verdictOf({ value: 0.95, threshold: 0.95 })).toBe("met");
    expect(verdictOf({ value: 0.94, threshold: 0.95 })).toBe("missed");
  });

  it("says 'not measured' for a missing or non-finite figure", () => {
    expect(verdictOf({ value: undefined, threshold: 1 })).toBe("not measured");
    expect(verdictOf({ value: Number.NaN, threshold: 1 })).toBe("not measured");
    expect(verdictOf({ value: Number.POSITIVE_INFINITY, threshold: 1 })).toBe("not measured");
  });

  it("never says 'met' for a row that answered non-2xx, errors or the wrong count", () => {
    const invalid = loadProblem({ total: 3000, non2xx: 29, errors: 0 }, 3000);
    expect(invalid).toBe("29 non-2xx and 0 errors");
    expect(verdictOf({ value: 1.4, threshold: 0.8, invalid })).toBe("invalid: 29 non-2xx and 0 errors");
    // Invalid wins over missing figures too: the row is the reason the figure is missing.
    expect(verdictOf({ value: undefined, threshold: 0.8, invalid })).toMatch(/^invalid: /);
    expect(loadProblem({ total: 2999, non2xx: 0, errors: 0 }, 3000)).toBe("the load generator sent 2999 requests instead of 3000");
    expect(loadProblem({ total: 10, non2xx: 0, errors: 1 })).toBe("0 non-2xx and 1 errors");
    expect(loadProblem({ total: 2999, non2xx: 0, errors: 0 })).toBeUndefined();
    expect(loadProblem({ total: 3000, non2xx: 0, errors: 0 }, 3000)).toBeUndefined();
  });

  it("flags a session setup that costs less than its bare framework as suspect, not met", () => {
    const suspect = cheaperThanBare(959_000, 1_085_000);
    expect(suspect).toBe("cheaper than bare (959k vs 1085k per request)");
    expect(verdictOf({ value: 1.13, threshold: 0.8, suspect })).toBe("suspect: cheaper than bare (959k vs 1085k per request)");
    expect(cheaperThanBare(1_085_000, 1_085_000)).toBeUndefined();
    expect(cheaperThanBare(1_200_000, 1_085_000)).toBeUndefined();
    expect(cheaperThanBare(null, 1_085_000)).toBeUndefined();
    expect(cheaperThanBare(959_000, undefined)).toBeUndefined();
  });
});
