/**
 * Throughput with 1 k, 100 k and 1 M stored sessions: it should stay flat. One server per size (filled through the
 * store's API before it listens, BENCH_PREFILL), 1,000 real sessions logged in over HTTP, then read-only requests
 * spread over those sessions (GET /dashboard with a random one of them), in interleaved rounds.
 * Env: BENCH_SCALE_SIZES (default 1000,100000,1000000), BENCH_SCALE_SCENARIOS (default cr-memory,cr-redis,es-memory),
 * BENCH_DURATION (default 4), BENCH_ROUNDS (default 2).
 * For Redis setups the Redis `used_memory` growth over all sizes' sessions is printed too (bytes per stored session).
 */
import { benchStats, detectServices, loginMany, startLoadGenerator, startServer, type RunningServer } from "./lib/processes.js";
import { formatRate, markdownTable, median, writeSection } from "./lib/report.js";
import { REDIS_URL, SCENARIOS } from "./lib/scenarios.js";
import { RUN_TAG } from "./lib/tag.js";

/** Redis's `used_memory` (the server is shared: the figure carries whatever else ran meanwhile). */
async function redisUsedMemory(): Promise<number> {
  const { Redis } = await import("ioredis");
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
  } finally {
    client.disconnect();
  }
}

const SIZES = (process.env.BENCH_SCALE_SIZES ?? "1000,100000,1000000").split(",").map(Number);
const IDS = (process.env.BENCH_SCALE_SCENARIOS ?? "cr-memory,cr-redis,es-memory").split(",");
const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LOGGED_IN = 1000;

async function main(): Promise<void> {
  const services = await detectServices();
  const load = await startLoadGenerator();
  const rows: string[][] = [];
  const data: Record<string, Record<number, number[]>> = {};
  const cpu: Record<string, Record<number, number[]>> = {};
  const skipped: string[] = [];
  const memory: string[] = [];
  try {
    for (const id of IDS) {
      const scenario = SCENARIOS.find((s) => s.id === id);
      if (!scenario) throw new Error(`unknown scenario ${id}`);
      const missing = scenario.needs.filter((n) => !services[n]);
      if (missing.length) {
        skipped.push(`${id}: ${missing.join(", ")} not reachable`);
        continue;
      }
      const servers: { size: number; server: RunningServer; cookies: string[] }[] = [];
      const memoryBefore = scenario.needs.includes("redis") ? await redisUsedMemory() : 0;
      for (const size of SIZES) {
        const fillers = Math.max(0, size - LOGGED_IN);
        const t0 = performance.now();
        const server = await startServer(id, { BENCH_PREFILL: String(fillers), BENCH_TAG: `${RUN_TAG}-scale${size}` });
        if ("skipped" in server) {
          skipped.push(`${id}: ${server.skipped}`);
          break;
        }
        const cookies = await loginMany(server.port, Math.min(LOGGED_IN, size), `scale-${size}`);
        console.log(`  ${id}: ${size.toLocaleString("en")} sessions ready in ${Math.round((performance.now() - t0) / 1000)} s`);
        servers.push({ size, server, cookies });
      }
      if (scenario.needs.includes("redis")) {
        const stored = servers.reduce((sum, s) => sum + s.size, 0);
        const grown = (await redisUsedMemory()) - memoryBefore;
        memory.push(`${id}: Redis used_memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB for ${stored.toLocaleString("en")} stored sessions (${Math.round(grown / stored)} B per session)`);
        console.log(`  ${memory[memory.length - 1]}`);
      }
      data[id] = {};
      cpu[id] = {};
      try {
        for (const s of servers) await load.run({ port: s.server.port, workload: "mix", writeRatio: 0, cookies: s.cookies, duration: 1, connections: 10 });
        for (let round = 1; round <= ROUNDS; round += 1) {
          for (const s of servers) {
            const before = await benchStats(s.server.port);
            const result = await load.run({ port: s.server.port, workload: "mix", writeRatio: 0, cookies: s.cookies, duration: DURATION, connections: 10 });
            const after = await benchStats(s.server.port);
            const micros = (after.cpuMicros - before.cpuMicros) / Math.max(1, result.total);
            (data[id][s.size] ??= []).push(result.requestsPerSecond);
            (cpu[id][s.size] ??= []).push(micros);
            console.log(`round ${round} ${id} ${s.size.toLocaleString("en").padStart(9)} sessions: ${formatRate(result.requestsPerSecond)} req/s, p99 ${result.latencyP99} ms, CPU ${micros.toFixed(0)} µs/req, non-2xx ${result.non2xx}`);
          }
        }
      } finally {
        await Promise.all(servers.map((s) => s.server.stop()));
      }
      const base = median(data[id][SIZES[0]!] ?? []);
      const baseCpu = median(cpu[id][SIZES[0]!] ?? []);
      for (const size of SIZES) {
        const rate = median(data[id][size] ?? []);
        const micros = median(cpu[id][size] ?? []);
        if (Number.isFinite(rate)) {
          rows.push([id, size.toLocaleString("en"), formatRate(rate), `${(rate / base).toFixed(2)}×`, `${micros.toFixed(0)} µs`, `${(micros / baseCpu).toFixed(2)}×`]);
        }
      }
    }
  } finally {
    await load.stop();
  }
  const markdown = [
    "## Throughput vs. stored sessions",
    "",
    `Read-only GET /dashboard spread over ${LOGGED_IN} logged-in sessions; the rest are filler sessions ${process.env.BENCH_PREFILL_PIPELINE === "1" ? "(RedisStore: pipelined copies of one anonymous session as the store wrote it, BENCH_PREFILL_PIPELINE=1)" : "stored through the store's API"}. ` +
      `${ROUNDS} interleaved rounds × ${DURATION} s, median. Server CPU per request (user + system time / requests) is the ` +
      "noise-robust figure on a shared machine; for Redis it leaves out redis-server's own time.",
    "",
    markdownTable(["setup", "stored sessions", "req/s", `req/s × the ${SIZES[0]!.toLocaleString("en")}-session figure`, "server CPU / request", "CPU × the smallest"], rows),
    ...(memory.length ? ["", ...memory.map((line) => `- ${line}`)] : []),
    ...(skipped.length ? ["", "Skipped: " + skipped.join("; ")] : []),
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("scale", markdown, { sizes: SIZES, data, cpuMicrosPerRequest: cpu, memory, skipped });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
