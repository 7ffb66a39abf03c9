import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "../../test/servers.js";
import { createRateLimit } from "./rate-limit.js";

const postgresUp = await postgresReachable();

describe.skipIf(!postgresUp)("rate limits on PostgreSQL", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
  const tableName = `rl_race_${uniqueSuffix()}`;
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${tableName}"`);
    await pool.end();
  });

  it("many limiters creating one new table at once all become ready (CREATE TABLE IF NOT EXISTS races)", async () => {
    const limits = Array.from({ length: 8 }, (_, i) =>
      createRateLimit({ points: 3, duration: 60, backend: { type: "postgres", pool, tableName }, keyPrefix: `race${i}` }),
    );
    const decisions = await Promise.all(limits.map((limit) => limit.consume("203.0.113.9")));
    expect(decisions.every((d) => d.allowed)).toBe(true);
  });
});
