/**
 * Store calls per read-only request, counted. One session is logged in, then BENCH_ROUNDTRIP_REQUESTS (default 1000)
 * GET /dashboard requests follow within the touch window (cloakroom's touchAfter is 60 s by default):
 * - store calls, counted inside the server by wrapping the store instance's methods (BENCH_COUNT=1);
 * - Redis commands, from `INFO commandstats` deltas (server-wide: anything else using this Redis meanwhile is
 *   counted too, so each figure is the smallest of three repetitions).
 */
import { createClient } from "redis";
import { benchReset, benchStats, detectServices, login, startServer } from "./lib/processes.js";
import { markdownTable, writeSection } from "./lib/report.js";
import { REDIS_URL, SCENARIOS } from "./lib/scenarios.js";
import { WRITE_METHODS } from "./lib/instrument.js";

const REQUESTS = Number(process.env.BENCH_ROUNDTRIP_REQUESTS ?? 1000);
const IDS = ["es-memory", "es-redis", "cr-memory", "cr-sqlite", "cr-redis", "cr-redis-cached", "cr-postgres", "cr-memcached"];

type Redis = ReturnType<typeof createClient>;

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const match of (await redis.info("commandstats")).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) stats.set(match[1]!, Number(match[2]));
  return stats;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [name, calls] of after) {
    const diff = calls - (before.get(name) ?? 0);
    if (diff > 0 && name !== "info") d.set(name, diff);
  }
  return d;
}

async function readOnlyRequests(port: number, cookie: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < REQUESTS; i += 1) {
    const response = await fetch(`http://127.0.0.1:${port}/dashboard`, { headers: { cookie } });
    await response.arrayBuffer();
    if (response.status === 200) ok += 1;
  }
  return ok;
}

async function main(): Promise<void> {
  const services = await detectServices();
  let redis: Redis | null = null;
  if (services.redis) {
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  }
  const rows: string[][] = [];
  const data: Record<string, unknown> = {};
  for (const id of IDS) {
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    const missing = scenario.needs.filter((n) => !services[n]);
    if (missing.length) {
      rows.push([scenario.label, "skipped", "", "", `${missing.join(", ")} not reachable`]);
      continue;
    }
    const server = await startServer(id, { BENCH_COUNT: "1" });
    if ("skipped" in server) {
      rows.push([scenario.label, "skipped", "", "", server.skipped]);
      continue;
    }
    try {
      const cookie = await login(server.port, "user-roundtrips");
      await readOnlyRequests(server.port, cookie); // warm the connections; the session is now in the touch window
      let best: { calls: Record<string, number>; redis: Map<string, number> | null } | null = null;
      for (let repeat = 0; repeat < 3; repeat += 1) {
        await benchReset(server.port);
        const before = redis && scenario.needs.includes("redis") ? await commandStats(redis) : null;
        const ok = await readOnlyRequests(server.port, cookie);
        const after = before && redis ? await commandStats(redis) : null;
        if (ok !== REQUESTS) throw new Error(`${REQUESTS - ok} requests were not 200`);
        const calls = (await benchStats(server.port)).counts ?? {};
        const commands = before && after ? delta(before, after) : null;
        const total = commands ? [...commands.values()].reduce((a, b) => a + b, 0) : 0;
        const bestTotal = best?.redis ? [...best.redis.values()].reduce((a, b) => a + b, 0) : Infinity;
        if (!best || total < bestTotal) best = { calls, redis: commands };
      }
      const perRequest = (n: number): string => (n / REQUESTS).toFixed(2);
      const writes = WRITE_METHODS.reduce((sum, m) => sum + (best!.calls[m] ?? 0), 0);
      const reads = best!.calls.get ?? 0;
      const redisCommands = best!.redis
        ? [...best!.redis.entries()].map(([name, calls]) => `${name} ${perRequest(calls)}`).join(", ") || "0"
        : "—";
      rows.push([scenario.label, perRequest(writes), perRequest(reads), redisCommands, Object.entries(best!.calls).map(([m, c]) => `${m}: ${c}`).join(", ")]);
      data[id] = { calls: best!.calls, redis: best!.redis ? Object.fromEntries(best!.redis) : null };
      console.log(`${id}: ${perRequest(writes)} writes/request, ${perRequest(reads)} reads/request, redis: ${redisCommands}`);
    } catch (error) {
      rows.push([scenario.label, "error", "", "", String(error)]);
    } finally {
      await server.stop();
    }
  }
  await redis?.quit();
  const markdown = [
    `## Store calls per read-only request (${REQUESTS} × GET /dashboard inside the touch window)`,
    "",
    markdownTable(["setup", "store writes / request", "store reads / request", "Redis commands / request (INFO commandstats)", "raw call counts"], rows),
    "",
    "Target: zero store writes for read-only requests inside the touch window (cloakroom rows).",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("roundtrips", markdown, { requests: REQUESTS, data });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
