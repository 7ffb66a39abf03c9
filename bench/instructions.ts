/**
 * `npm run bench:instructions -w @cloakroom/bench [-- ids]`: machine instructions per request, counted by valgrind's
 * callgrind, so the figure does not move with other jobs on a shared machine (req/s moves by ±10 % there).
 *
 * For each setup the server runs twice under callgrind, once serving SMALL and once LARGE `GET /dashboard` requests
 * (10 connections, one logged-in session); (instructions(LARGE) − instructions(SMALL)) / (LARGE − SMALL) is the cost
 * of one request with start-up, warm-up and shutdown cancelled out. The count includes everything the server process
 * executes (V8's compiler and garbage collector too) but not Redis or the load generator. V8 runs single-threaded
 * here (--single-threaded), so the count does not depend on how valgrind schedules threads.
 *
 * Needs valgrind (`apt-get install valgrind`); without it the script says so and exits 0. `BENCH_RESULTS=<name>` writes
 * results/<name>.md/.json instead of results/instructions.* (as bench:steady does).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCENARIOS } from "./lib/scenarios.js";
import { detectServices, login, startLoadGenerator, startServer, type LoadGenerator } from "./lib/processes.js";
import { markdownTable, writeSection } from "./lib/report.js";
import { cheaperThanBare, loadProblem, verdictOf } from "./lib/verdict.js";

/**
 * Requests every run serves before the counted ones (both runs alike, so they cancel out too): with 0, the window
 * between SMALL and LARGE still holds V8's warm-up (tier-up compiles of the framework's and the session layer's
 * code), which on Fastify and Hono is most of the figure; 20,000 puts the window past it (see bench/README.md).
 */
const WARMUP = Number(process.env.BENCH_INSTRUCTIONS_WARMUP ?? 0);
const SMALL = Number(process.env.BENCH_INSTRUCTIONS_SMALL ?? 1000);
const LARGE = Number(process.env.BENCH_INSTRUCTIONS_LARGE ?? 3000);
/** Concurrent connections of the load: with 1, requests arrive one at a time, so no batching changes the count. */
const CONNECTIONS = Number(process.env.BENCH_INSTRUCTIONS_CONNECTIONS ?? 10);
const DEFAULT_IDS = ["bare", "floor-own", "floor-proto", "jwt", "es-memory", "es-redis", "cr-memory", "cr-sqlite", "cr-redis", "cr-redis-node", "cr-redis-cached", "cr-postgres",
  "fastify", "fastify-floor", "fastify-session", "cr-fastify", "hono", "hono-floor", "cr-hono"];

/**
 * Total instructions of one server run that served `amount` requests, a reason it could not run (a string: skipped),
 * or why its figures are unusable (`invalid`: requests that failed or went missing).
 */
async function countRun(id: string, amount: number, load: LoadGenerator): Promise<number | string | { invalid: string }> {
  const dir = await mkdtemp(join(tmpdir(), "cloakroom-callgrind-"));
  try {
    const wrapper = `valgrind --tool=callgrind --callgrind-out-file=${join(dir, "out.%p")}`;
    const server = await startServer(id, { BENCH_SERVER_WRAPPER: wrapper });
    if ("skipped" in server) return server.skipped;
    try {
      const scenario = SCENARIOS.find((s) => s.id === id)!;
      const cookie = scenario.authless ? "none=1" : await login(server.port, "user-instructions");
      if (WARMUP > 0) {
        const warm = await load.run({ port: server.port, workload: "dashboard", cookies: [cookie], duration: 0, amount: WARMUP, connections: CONNECTIONS });
        const problem = loadProblem(warm, WARMUP);
        if (problem !== undefined) return { invalid: `warm-up: ${problem}` };
      }
      const result = await load.run({ port: server.port, workload: "dashboard", cookies: [cookie], duration: 0, amount, connections: CONNECTIONS });
      const problem = loadProblem(result, amount);
      if (problem !== undefined) return { invalid: problem };
    } finally {
      await server.stop();
    }
    // One file per process: the server's (the largest; valgrind may leave others for helper processes).
    let total = 0;
    for (const file of await readdir(dir)) {
      const text = await readFile(join(dir, file), "utf8");
      const match = /^(?:summary|totals): (\d+)/m.exec(text);
      if (match) total = Math.max(total, Number(match[1]));
    }
    if (process.env.BENCH_VERBOSE) console.log(`  ${id}: ${amount} requests, ${total} instructions in all`);
    return total > 0 ? total : "callgrind wrote no totals";
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.log("skip: valgrind is not installed (apt-get install valgrind); nothing measured");
    return;
  }
  // V8 compiles and collects garbage on background threads by default; under valgrind, which runs one thread at a
  // time, when that work lands depends on valgrind's scheduling, and two runs of one setup came out up to 10 % apart.
  // --single-threaded keeps it all on the main thread: two runs of bare Express then agreed within 0.3 %.
  // --predictable-gc-schedule: V8 otherwise sizes the heap and runs idle-time and memory-reducing collections by the
  // clock, so a server that waits longer between requests (a loaded machine, a slower load generator) collects more
  // and counts more; with it, the collections depend on what the code allocates only. Fixed hash and random seeds:
  // otherwise every process probes its hash tables (strings, Maps, WeakMaps' identity hashes) differently.
  // As bench:steady (see there): under callgrind's ~50× slower wall clock, cloakroom's 60 s touch window would close
  // every ~1,500 requests; stretched, the counted requests are the read-only ones they are at native speed.
  process.env.BENCH_TOUCH_AFTER ??= "1700000";
  process.env.BENCH_CACHE_TTL ??= "1700000";
  // And the in-process stores' sweep (60 s → 50 min): lib/scenarios.ts sweepIntervalOverride.
  process.env.BENCH_SWEEP_INTERVAL ??= "3000000";
  process.env.BENCH_SERVER_FLAGS = `${process.env.BENCH_SERVER_FLAGS ?? ""} --single-threaded --predictable-gc-schedule --hash-seed=1 --random-seed=1`.trim();
  // The setups: `-- ids` or BENCH_ONLY (both comma lists), else all of them.
  const ids = (process.argv[2] ?? process.env.BENCH_ONLY)?.split(",").map((id) => id.trim()).filter(Boolean) ?? DEFAULT_IDS;
  const services = await detectServices();
  const load = await startLoadGenerator();
  const rows: Row[] = [];
  try {
    for (const id of ids) {
      const scenario = SCENARIOS.find((s) => s.id === id);
      if (!scenario) throw new Error(`unknown setup ${id}`);
      const missing = scenario.needs.filter((n) => !services[n]);
      if (missing.length > 0) {
        rows.push({ id, label: scenario.label, perRequest: null, note: `skipped: ${missing.join(", ")} not reachable` });
        continue;
      }
      const small = await countRun(id, SMALL, load);
      const large = typeof small === "number" ? await countRun(id, LARGE, load) : small;
      if (typeof small === "number" && typeof large === "number") {
        rows.push({ id, label: scenario.label, perRequest: (large - small) / (LARGE - SMALL), note: "" });
      } else {
        const failed = (typeof small === "number" ? large : small) as string | { invalid: string };
        rows.push(typeof failed === "string"
          ? { id, label: scenario.label, perRequest: null, note: `skipped: ${failed}` }
          : { id, label: scenario.label, perRequest: null, note: `invalid: ${failed.invalid}`, invalid: failed.invalid });
      }
      const last = rows.at(-1)!;
      console.log(`${id.padEnd(16)} ${last.perRequest === null ? last.note : `${Math.round(last.perRequest / 1000)}k instructions per request`}`);
    }
  } finally {
    await load.stop();
  }
  const markdown = [
    `## Instructions per request (callgrind, GET /dashboard, ${LARGE - SMALL} requests' difference${WARMUP > 0 ? `, after ${WARMUP} warm-up requests` : ""})`,
    "",
    markdownTable(
      ["setup", "instructions / request", "× its bare framework (bare ÷ setup)", "added over bare"],
      rows.map((r) => {
        const bare = bareOf(rows, r.id);
        const suspect = suspectOf(rows, r.id);
        return [
          r.label,
          r.perRequest === null ? r.note : `${Math.round(r.perRequest / 1000)}k${suspect === undefined ? "" : ` (suspect: ${suspect})`}`,
          r.perRequest === null || bare === null ? "—" : `${(bare / r.perRequest).toFixed(2)}×`,
          r.perRequest === null || bare === null ? "—" : `${Math.round((r.perRequest - bare) / 1000)}k`,
        ];
      }),
    ),
    "",
    ...targetsOf(rows),
    "V8 runs with --single-threaded (compiler and GC on the main thread). Two runs of one setup have agreed within 0.5 % and",
    "have differed by up to 8 %: the window holds only a few full collections (each costs the whole live heap) and V8 is",
    "still compiling; `npm run bench:steady` measures after a warm-up over a longer window.",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection(process.env.BENCH_RESULTS ?? "instructions", markdown, { warmup: WARMUP, small: SMALL, large: LARGE, rows });
}

interface Row {
  id: string;
  label: string;
  perRequest: number | null;
  note: string;
  /** Why the row's runs are unusable (failed or missing requests), when they are. */
  invalid?: string;
}

/** The bare row a setup is compared with: its own framework's (a Fastify or Hono row over bare Express would read as a speed-up). */
function bareIdOf(id: string): string {
  return /(^|-)fastify/.test(id) ? "fastify" : /(^|-)hono/.test(id) ? "hono" : "bare";
}

function bareOf(rows: Row[], id: string): number | null {
  return rows.find((r) => r.id === bareIdOf(id))?.perRequest ?? null;
}

/** Why a session row's figure cannot be right (it costs less than its bare framework's), if so; never for a bare row. */
function suspectOf(rows: Row[], id: string): string | undefined {
  if (id === bareIdOf(id)) return undefined;
  return cheaperThanBare(rows.find((r) => r.id === id)?.perRequest, bareOf(rows, id));
}

/** Issues 11's and 12's targets, read off this run's rows (never asserted: a benchmark, not a test). */
function targetsOf(rows: Row[]): string[] {
  const row = (id: string): Row | undefined => rows.find((r) => r.id === id);
  const cost = (id: string): number | null => row(id)?.perRequest ?? null;
  const lines: string[][] = [];
  /** What makes a target on rows `ids` unbelievable: a row with failed requests, or a session row below its bare row. */
  const doubts = (...ids: string[]): { invalid?: string; suspect?: string } => {
    const bad = ids.map(row).find((r) => r?.invalid !== undefined);
    const low = ids.map((id) => ({ id, why: suspectOf(rows, id) })).find((d) => d.why !== undefined);
    return { invalid: bad ? `${bad.id}: ${bad.invalid}` : undefined, suspect: low ? `${low.id} ${low.why}` : undefined };
  };
  /** `id` at least `threshold` times as fast as `than` (than's instructions ÷ id's). */
  const times = (label: string, id: string, than: string, threshold: number): void => {
    const a = cost(id);
    const b = cost(than);
    const r = a === null || b === null ? undefined : b / a;
    lines.push([label, r === undefined ? "not measured" : `${r.toFixed(2)}×`, verdictOf({ value: r, threshold, ...doubts(id, than) })]);
  };
  /** `id` costs fewer instructions than `than`. */
  const cheaper = (label: string, id: string, than: string): void => {
    const a = cost(id);
    const b = cost(than);
    const figure = a === null || b === null ? "not measured" : `${Math.round(a / 1000)}k vs ${Math.round(b / 1000)}k`;
    lines.push([label, figure, verdictOf({ value: a === null || b === null ? undefined : b / a, threshold: 1 + Number.EPSILON /* strictly fewer */, ...doubts(id, than) })]);
  };
  times("MemoryStore ≥ 0.95× bare Express", "cr-memory", "bare", 0.95);
  times("SqliteStore ≥ 0.88× bare Express", "cr-sqlite", "bare", 0.88);
  times("Redis + local cache ≥ 0.93× bare Express", "cr-redis-cached", "bare", 0.93);
  times("RedisStore ≥ 0.80× bare Express", "cr-redis", "bare", 0.8);
  times("PostgresStore ≥ 0.70× bare Express", "cr-postgres", "bare", 0.7);
  cheaper("RedisStore cheaper than express-session + connect-redis", "cr-redis", "es-redis");
  for (const id of ["cr-memory", "cr-sqlite", "cr-redis-cached"]) cheaper(`${id} cheaper than the jose JWT setup`, id, "jwt");
  // Issue 12: each framework's adapter against that framework without sessions, and against @fastify/session.
  times("cloakroom/fastify ≥ 0.90× bare Fastify", "cr-fastify", "fastify", 0.9);
  times("cloakroom/fastify ≥ 1.5× @fastify/session", "cr-fastify", "fastify-session", 1.5);
  times("cloakroom/hono ≥ 0.90× bare Hono", "cr-hono", "hono", 0.9);
  return ["Targets (issues 11 and 12):", "", markdownTable(["target", "this run", ""], lines), ""];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
