/**
 * The tag that keeps one bench run's Redis and Memcached keys and PostgreSQL table apart from another's.
 *
 * BENCH_TAG when set; otherwise one chosen here, once per process: `<pid>-<4 hex digits>`. startServer passes it to
 * every server it starts (lib/processes.ts), so a run's servers share it and no other run's do. Without it, two runs
 * at once (`npm run bench` and `npm run bench:instructions`) filled and cleared the same keys (session 8: a RedisStore
 * row invalid, 29k non-2xx).
 */
import { randomBytes } from "node:crypto";

export const RUN_TAG: string = process.env.BENCH_TAG || `${process.pid}-${randomBytes(2).toString("hex")}`;
