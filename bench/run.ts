/**
 * `npm run bench`: every setup side by side in one run, interleaved rounds (A B C … A B C …), medians and ratios to
 * the baseline measured in the same round, so the figures hold on a noisy machine.
 *
 * Env knobs: BENCH_DURATION (s per measurement, default 3), BENCH_WARMUP (s, default 2), BENCH_ROUNDS (default 5),
 * BENCH_CONNECTIONS (default 10), BENCH_SESSIONS (distinct sessions of the mix, default 10000),
 * BENCH_ONLY (comma list of scenario ids; the baseline, the two floors and matching peers are added), BENCH_WORKLOADS (dashboard,mix),
 * BENCH_RESULTS (the name of the results/<name>.md/.json/.svg written, default "latest": a focused run keeps its own file).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cpus } from "node:os";
import { SCENARIOS, type Scenario } from "./lib/scenarios.js";
import {
  benchStats,
  detectServices,
  login,
  loginMany,
  pinningNote,
  startLoadGenerator,
  startServer,
  statusOf,
  type RunningServer,
} from "./lib/processes.js";
import { RESULTS_DIR, formatRatio, formatRate, markdownTable, median, svgBarChart, writeSection, type Bar } from "./lib/report.js";
import type { LoadResult } from "./load.js";
import { verdictOf, type Verdict } from "./lib/verdict.js";

const config = {
  duration: Number(process.env.BENCH_DURATION ?? 3),
  warmup: Number(process.env.BENCH_WARMUP ?? 2),
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
  sessions: Number(process.env.BENCH_SESSIONS ?? 10_000),
  writeRatio: 0.1,
  workloads: (process.env.BENCH_WORKLOADS ?? "dashboard,mix").split(",").map((w) => w.trim()) as Workload[],
  results: process.env.BENCH_RESULTS ?? "latest",
};
type Workload = "dashboard" | "mix";
const WORKLOAD_TITLES: Record<Workload, string> = {
  dashboard: "GET /dashboard, one logged-in session",
  mix: `${config.sessions.toLocaleString("en")} sessions, ${config.writeRatio * 100} % of requests modify the session`,
};

interface Prepared {
  scenario: Scenario;
  server: RunningServer;
  cookie: string;
  mixCookies: string[];
}

function selectScenarios(): Scenario[] {
  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
  if (!only) return SCENARIOS;
  const wanted = new Set(["bare", "floor-own", "floor-proto", ...only]);
  for (const id of only) {
    const match = SCENARIOS.find((s) => s.id === id)?.matches;
    if (match) wanted.add(match);
  }
  return SCENARIOS.filter((s) => wanted.has(s.id));
}

async function prepare(scenario: Scenario, services: Record<string, boolean>): Promise<Prepared | { skipped: string }> {
  const missing = scenario.needs.filter((n) => !services[n]);
  if (missing.length > 0) return { skipped: `${missing.join(", ")} not reachable on 127.0.0.1` };
  const started = await startServer(scenario.id);
  if ("skipped" in started) return started;
  try {
    const cookie = scenario.authless ? "none=1" : await login(started.port, "user-dashboard");
    // Check the setup really authenticates before timing it.
    const anonymous = await statusOf(started.port, "/dashboard");
    const authenticated = await statusOf(started.port, "/dashboard", cookie);
    if (authenticated !== 200 || (!scenario.authless && anonymous !== 401)) {
      throw new Error(`auth check failed: /dashboard gave ${anonymous} without and ${authenticated} with the cookie`);
    }
    const t0 = performance.now();
    const mixCookies = !config.workloads.includes("mix") ? [] : scenario.authless ? [cookie] : await loginMany(started.port, config.sessions);
    if (mixCookies.length > 1) console.log(`  ${scenario.id}: ${mixCookies.length} sessions logged in in ${Math.round(performance.now() - t0)} ms`);
    return { scenario, server: started, cookie, mixCookies };
  } catch (error) {
    await started.stop();
    return { skipped: String(error instanceof Error ? error.message : error) };
  }
}

interface Measurement {
  round: number;
  workload: Workload;
  id: string;
  result: LoadResult;
  /** Server CPU time (user + system) per request, µs. */
  cpuPerRequest: number;
}

interface Row {
  id: string;
  label: string;
  side: Scenario["side"];
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  p99Median: number;
  cpuPerRequest: number;
  cpuRatioToBare: number | undefined;
  ratioToBare: number | undefined;
  ratioToMatch: number | undefined;
  matches: string | undefined;
  non2xx: number;
}

function summarize(workload: Workload, prepared: Prepared[], measurements: Measurement[]): Row[] {
  const rows = summarizeRates(workload, prepared, measurements);
  const bare = rows.find((r) => r.id === "bare");
  for (const row of rows) if (bare) row.cpuRatioToBare = bare.cpuPerRequest / row.cpuPerRequest;
  return rows;
}

function summarizeRates(workload: Workload, prepared: Prepared[], measurements: Measurement[]): Row[] {
  const of = (id: string): Measurement[] => measurements.filter((m) => m.workload === workload && m.id === id);
  const sameRoundRatio = (id: string, other: string | undefined): number | undefined => {
    if (!other || !prepared.some((p) => p.scenario.id === other)) return undefined;
    const ratios = of(id).flatMap((m) => {
      const peer = of(other).find((o) => o.round === m.round);
      return peer ? [m.result.requestsPerSecond / peer.result.requestsPerSecond] : [];
    });
    return ratios.length ? median(ratios) : undefined;
  };
  return prepared.map(({ scenario }) => {
    const rates = of(scenario.id).map((m) => m.result.requestsPerSecond);
    return {
      id: scenario.id,
      label: scenario.label,
      side: scenario.side,
      rpsMedian: median(rates),
      rpsMin: Math.min(...rates),
      rpsMax: Math.max(...rates),
      p99Median: median(of(scenario.id).map((m) => m.result.latencyP99)),
      cpuPerRequest: median(of(scenario.id).map((m) => m.cpuPerRequest)),
      cpuRatioToBare: undefined,
      ratioToBare: scenario.id === "bare" ? 1 : sameRoundRatio(scenario.id, "bare"),
      ratioToMatch: sameRoundRatio(scenario.id, scenario.matches),
      matches: scenario.matches,
      non2xx: of(scenario.id).reduce((sum, m) => sum + m.result.non2xx + m.result.errors, 0),
    };
  });
}

function tableOf(rows: Row[]): string {
  return markdownTable(
    ["setup", "req/s (median)", "spread (min–max)", "p99 latency", "× bare Express", "× matching express-session", "server CPU / request", "CPU-based × bare", "errors / non-2xx"],
    rows.map((r) => [
      r.label,
      formatRate(r.rpsMedian),
      `${formatRate(r.rpsMin)}–${formatRate(r.rpsMax)} (±${((100 * (r.rpsMax - r.rpsMin)) / 2 / r.rpsMedian).toFixed(0)} %)`,
      `${r.p99Median} ms`,
      formatRatio(r.ratioToBare),
      r.ratioToMatch === undefined ? "—" : `${formatRatio(r.ratioToMatch)} (vs ${r.matches})`,
      `${r.cpuPerRequest.toFixed(0)} µs`,
      formatRatio(r.cpuRatioToBare),
      String(r.non2xx),
    ]),
  );
}

interface Target {
  target: string;
  figure: string;
  verdict: Verdict;
}

function evaluateTargets(rows: Row[], mixRows: Row[]): Target[] {
  const targets: Target[] = [];
  const check: Check = (target, value, threshold, ...from) => {
    // A ratio of a row whose requests failed says nothing about the session layer (bare Hono's 500s, a lost store).
    const bad = from.find((r) => r !== undefined && r.non2xx > 0);
    targets.push({
      target,
      figure: value === undefined || !Number.isFinite(value) ? "not measured" : `${value.toFixed(2)}×`,
      verdict: verdictOf({ value, threshold, invalid: bad ? `${bad.id}: ${bad.non2xx} errors / non-2xx` : undefined }),
    });
  };
  if (rows.length > 0) checkDashboard(rows, check);
  if (mixRows.length > 0) checkMix(mixRows, check);
  return targets;
}

/** One target: its figure, the threshold it must reach, and the rows the figure was computed from. */
type Check = (target: string, value: number | undefined, threshold: number, ...from: (Row | undefined)[]) => void;

function checkDashboard(rows: Row[], check: Check): void {
  const row = (id: string): Row | undefined => rows.find((r) => r.id === id);
  const bare = row("bare");
  const memory = row("cr-memory");
  const redis = row("cr-redis");
  const overBare = (id: string, label: string, threshold: number): void => check(label, row(id)?.ratioToBare, threshold, row(id), bare);
  overBare("cr-memory", "MemoryStore ≥ 0.95× bare Express (issue 11)", 0.95);
  overBare("cr-sqlite", "SqliteStore ≥ 0.88× bare Express (issue 11)", 0.88);
  overBare("cr-redis-cached", "Redis + local cache ≥ 0.93× bare Express (issue 11)", 0.93);
  overBare("cr-redis", "RedisStore ≥ 0.80× bare Express, no local cache (issue 11)", 0.8);
  check("RedisStore faster than express-session + connect-redis", redis?.ratioToMatch, 1.0, redis, row("es-redis"));
  overBare("cr-postgres", "PostgresStore ≥ 0.70× bare Express (issue 11)", 0.7);
  const jwt = row("jwt");
  const overJwt = memory && jwt && memory.ratioToBare !== undefined && jwt.ratioToBare !== undefined ? memory.ratioToBare / jwt.ratioToBare : undefined;
  check("memory store faster than the jose JWT setup", overJwt, 1.0, memory, jwt, bare);
}

function checkMix(mixRows: Row[], check: Check): void {
  const mixMemory = mixRows.find((r) => r.id === "cr-memory");
  const mixPeer = mixRows.find((r) => r.id === "es-memory");
  check(`${WORKLOAD_TITLES.mix}: MemoryStore ≥ 1.3× express-session by req/s (issue 11)`, mixMemory?.ratioToMatch, 1.3, mixMemory, mixPeer);
  // Server CPU per request, the figure other jobs on the machine hardly move: express-session's ÷ cloakroom's.
  const cpuOverPeer = mixMemory && mixPeer ? mixPeer.cpuPerRequest / mixMemory.cpuPerRequest : undefined;
  check(`${WORKLOAD_TITLES.mix}: the same by server CPU per request`, cpuOverPeer, 1.3, mixMemory, mixPeer);
}

/** What the two "floor" rows say: what express-session's API costs, bound as own properties or as prototype accessors. */
function floorNote(rows: Row[]): string[] {
  const own = rows.find((r) => r.id === "floor-own");
  const proto = rows.find((r) => r.id === "floor-proto");
  if (own?.ratioToBare === undefined || proto?.ratioToBare === undefined) return [];
  return [
    `express-session's API with no cookie and no store measured ${formatRatio(own.ratioToBare)} bare Express bound as own ` +
      `properties of req/res (as express-session binds it) and ${formatRatio(proto.ratioToBare)} as prototype accessors ` +
      `(as cloakroom/express binds it), CPU-based ${formatRatio(own.cpuRatioToBare)} and ${formatRatio(proto.cpuRatioToBare)}. ` +
      "See bench/README.md, \"What the API costs\".",
    "",
  ];
}

async function main(): Promise<void> {
  try {
    await import("cloakroom/express");
  } catch (error) {
    console.error(`cloakroom is not built (${String(error).split("\n")[0]}): run \`npm run build\` at the repository root first.`);
    process.exit(1);
  }
  const started = Date.now();
  const services = await detectServices();
  const scenarios = selectScenarios();
  console.log(`bench: ${config.rounds} rounds × ${config.duration} s, warm-up ${config.warmup} s, ${config.connections} connections; ${pinningNote()}`);
  console.log(`services: ${Object.entries(services).map(([k, v]) => `${k} ${v ? "up" : "DOWN"}`).join(", ")}`);

  const load = await startLoadGenerator();
  const prepared: Prepared[] = [];
  const skipped: { id: string; label: string; reason: string }[] = [];
  for (const scenario of scenarios) {
    const outcome = await prepare(scenario, services);
    if ("skipped" in outcome) {
      skipped.push({ id: scenario.id, label: scenario.label, reason: outcome.skipped });
      console.log(`  skipped ${scenario.id}: ${outcome.skipped}`);
    } else prepared.push(outcome);
  }

  const measurements: Measurement[] = [];
  const job = (p: Prepared, workload: Workload, duration: number) => ({
    port: p.server.port,
    workload,
    cookies: workload === "dashboard" ? [p.cookie] : p.mixCookies,
    duration,
    connections: config.connections,
    writeRatio: config.writeRatio,
  });
  try {
    if (config.warmup > 0) {
      console.log("warm-up");
      for (const workload of config.workloads) for (const p of prepared) await load.run(job(p, workload, config.warmup));
    }
    for (let round = 1; round <= config.rounds; round += 1) {
      for (const workload of config.workloads) {
        for (const p of prepared) {
          const before = await benchStats(p.server.port);
          const result = await load.run(job(p, workload, config.duration));
          const after = await benchStats(p.server.port);
          const cpuPerRequest = (after.cpuMicros - before.cpuMicros) / Math.max(1, result.total);
          measurements.push({ round, workload, id: p.scenario.id, result, cpuPerRequest });
          const bad = result.non2xx + result.errors > 0 ? `  (${result.non2xx} non-2xx, ${result.errors} errors ${JSON.stringify(result.statusCodes)})` : "";
          console.log(`round ${round} ${workload.padEnd(9)} ${p.scenario.id.padEnd(16)} ${formatRate(result.requestsPerSecond).padStart(6)} req/s  p99 ${String(result.latencyP99).padStart(3)} ms  CPU ${cpuPerRequest.toFixed(0).padStart(3)} µs/req${bad}`);
        }
      }
    }
  } finally {
    await Promise.all(prepared.map((p) => p.server.stop()));
    await load.stop();
  }

  const tables = config.workloads.map((workload) => ({ workload, rows: summarize(workload, prepared, measurements) }));
  const dashboardRows = tables.find((t) => t.workload === "dashboard")?.rows ?? [];
  const targets = evaluateTargets(dashboardRows, tables.find((t) => t.workload === "mix")?.rows ?? []);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, Node ${process.version}, ${process.platform}`;
  const markdown = [
    `# Cloakroom benchmark — ${new Date().toISOString().slice(0, 19)}Z`,
    "",
    `${machine}. ${config.rounds} interleaved rounds × ${config.duration} s after a ${config.warmup} s warm-up, ${config.connections} connections, ` +
      `autocannon in its own process; ${pinningNote()}. Ratios are medians of same-round ratios. ` +
      "Server CPU / request is the server process's user + system time divided by the requests served (median over rounds): " +
      "other load on the machine moves it much less than req/s (though heavy contention still inflates it), so its ratio is the " +
      "cross-check on a noisy machine. It leaves out the time spent in Redis, PostgreSQL or Memcached themselves, which the " +
      "req/s figures include.",
    "",
    ...tables.flatMap(({ workload, rows }) => [`## ${WORKLOAD_TITLES[workload]}`, "", tableOf(rows), ""]),
    "## Targets",
    "",
    markdownTable(["target", "figure", "met"], targets.map((t) => [t.target, t.figure, t.verdict === "met" ? "yes" : t.verdict === "missed" ? "**no**" : t.verdict])),
    "",
    ...floorNote(dashboardRows),
    ...(skipped.length ? ["## Skipped", "", ...skipped.map((s) => `- ${s.label} (\`${s.id}\`): ${s.reason}`), ""] : []),
    `Total time ${Math.round((Date.now() - started) / 1000)} s.`,
  ].join("\n");
  console.log(`\n${markdown}`);

  await writeSection(config.results, markdown, { date: new Date().toISOString(), machine, config, services, skipped, tables, targets, measurements });
  const svg = svgBarChart(
    "Cloakroom vs. alternatives — req/s (median), ratio to bare Express in the same round",
    tables.map(({ workload, rows }) => ({
      title: WORKLOAD_TITLES[workload],
      bars: rows.map((r): Bar => ({ label: r.label, value: r.rpsMedian, note: r.id === "bare" ? "baseline" : `${formatRatio(r.ratioToBare)} bare${r.ratioToMatch === undefined ? "" : ` · ${formatRatio(r.ratioToMatch)} ${r.matches}`}`, side: r.side })),
    })),
  );
  await writeFile(join(RESULTS_DIR, `${config.results}.svg`), svg);
  console.log(`\nwritten: bench/results/${config.results}.md, ${config.results}.json, ${config.results}.svg`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
