/**
 * Event-loop delay under a login storm: while autocannon hammers POST /login (every request creates a session,
 * 10 connections), 5 more connections keep requesting GET /dashboard with a logged-in session. The server records
 * its own event-loop delay (perf_hooks monitorEventLoopDelay, 2 ms resolution, subtracted) over the storm only.
 * Env: BENCH_LOOP_SCENARIOS (default es-memory,cr-memory,cr-sqlite,cr-redis,cr-postgres), BENCH_DURATION (default 5).
 */
import { benchReset, benchStats, detectServices, login, startLoadGenerator, startServer } from "./lib/processes.js";
import { formatRate, markdownTable, writeSection } from "./lib/report.js";
import { SCENARIOS } from "./lib/scenarios.js";

const IDS = (process.env.BENCH_LOOP_SCENARIOS ?? "es-memory,cr-memory,cr-sqlite,cr-redis,cr-postgres").split(",");
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const TARGET_MS = 20;

async function main(): Promise<void> {
  const services = await detectServices();
  const load = await startLoadGenerator();
  const rows: string[][] = [];
  const data: Record<string, unknown> = {};
  try {
    for (const id of IDS) {
      const scenario = SCENARIOS.find((s) => s.id === id)!;
      const missing = scenario.needs.filter((n) => !services[n]);
      const server = missing.length ? { skipped: `${missing.join(", ")} not reachable` } : await startServer(id, { BENCH_LOOP: "1" });
      if ("skipped" in server) {
        rows.push([scenario.label, "skipped", "", "", "", server.skipped]);
        continue;
      }
      try {
        const cookie = await login(server.port, "user-loop");
        await load.run({ port: server.port, workload: "login", cookies: [], duration: 1, connections: 10 }); // warm-up
        await benchReset(server.port);
        const [storm, dashboard] = await Promise.all([
          load.run({ port: server.port, workload: "login", cookies: [], duration: DURATION, connections: 10 }),
          load.run({ port: server.port, workload: "dashboard", cookies: [cookie], duration: DURATION, connections: 5 }),
        ]);
        const { loop } = await benchStats(server.port);
        const p99 = loop!.p99;
        rows.push([
          scenario.label,
          `${p99.toFixed(1)} ms`,
          `${loop!.max.toFixed(1)} ms`,
          `${formatRate(storm.requestsPerSecond)} logins/s`,
          `${formatRate(dashboard.requestsPerSecond)} req/s, p99 ${dashboard.latencyP99} ms`,
          id.startsWith("cr-") ? (p99 < TARGET_MS ? "yes" : "**no**") : "",
        ]);
        data[id] = { loop, storm, dashboard };
        console.log(`${id}: loop delay p99 ${p99.toFixed(1)} ms, max ${loop!.max.toFixed(1)} ms; ${Math.round(storm.requestsPerSecond)} logins/s (non-2xx ${storm.non2xx})`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await load.stop();
  }
  const markdown = [
    `## Event-loop delay under a login storm (${DURATION} s)`,
    "",
    markdownTable(["setup", "loop delay p99", "loop delay max", "login storm", "GET /dashboard meanwhile", `p99 < ${TARGET_MS} ms`], rows),
    "",
    "Logins skip password hashing (the seed's bcrypt would measure bcrypt); each one creates and stores a session.",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("loop-delay", markdown, data);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
