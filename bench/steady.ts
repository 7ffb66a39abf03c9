/**
 * `npm run bench:steady -w @cloakroom/bench [-- ids]`: instructions per request at steady state, counted by valgrind's
 * callgrind in ONE server run per row: the server is warmed up until its code has settled (below), one full GC is
 * run in it, callgrind's counters are zeroed (`callgrind_control -z`), COUNT more requests are served, and the
 * counters are dumped (`callgrind_control -d`). The dump is those COUNT requests and nothing else: no start-up, no
 * warm-up, no shutdown to cancel out.
 *
 * Why beside bench:instructions: that one counts the difference of a 1,000- and a 3,000-request run, a window where
 * V8 is still compiling the code of the request path (under --trace-opt, 50–70 functions get optimized in it on
 * Fastify and Hono), so its figures are mostly warm-up and move from run to run (bare Fastify: 442k on 2026-12-01,
 * 588k on 2026-12-02).
 *
 * The same treatment for every row, so that two rows of one run compare (bench/README.md, "Fastify and Hono"):
 * - Settled warm-up. A fixed warm-up suited no pair of rows: Fastify's late tier-ups (Node's removeAllListeners,
 *   onParserExecuteCommon, Fastify's validate) fell between requests 6,000 and 10,000 and so in one row's window and
 *   not the other's. The server writes V8's --trace-opt/--trace-deopt to a file (lib/v8-trace.ts); the warm-up
 *   serves at least WARMUP requests, then stretches of 1,000 until the last SETTLE requests began no optimizing
 *   compile and caused no deoptimization (at most MAX_WARMUP).
 * - One full GC right before the zeroing (`node --expose-gc`, SIGUSR2: server.ts collectOnSignal). Without it a
 *   row's window caught a mark-compact (25–50k per request over 4,000 requests) when its warm-up had left the old
 *   generation near its limit, which depends on the row's allocation, not on what its requests cost.
 * - What fell in the window is reported, not hidden: mark-compacts and incremental markings begun (the dump's call
 *   counts of Heap::MarkCompact and IncrementalMarking::StartMarkingMajor), the compiles and deoptimizations (the
 *   trace), and the window's GC and compiler categories per request.
 *
 * Env: BENCH_TOUCH_AFTER (cloakroom's touchAfter in the servers, 1,700,000 ms here: see main()), BENCH_CACHE_TTL and
 * BENCH_SWEEP_INTERVAL (CachedStore's ttl, the in-process stores' sweep: stretched likewise), BENCH_STEADY_WARMUP
 * (6000, the least warm-up), BENCH_STEADY_SETTLE (4000), BENCH_STEADY_MAX_WARMUP (40000), BENCH_STEADY_COUNT (4000),
 * BENCH_STEADY_CONNECTIONS (1: requests one at a time), BENCH_STEADY_JOBS (1: rows measured at a time; the counts do
 * not depend on it, the wall time does). BENCH_RESULTS names the results/<name>.md/.json written (default "steady").
 * BENCH_STEADY_KEEP=1 keeps the callgrind dumps and the trace (their directory is printed) for tools/callgrind-js.mjs.
 * BENCH_STEADY_WORKLOAD=mix counts the mixed workload of `npm run bench` instead: BENCH_SESSIONS (10000) sessions
 * logged in before the warm-up, request i uses session (i × 7919) mod BENCH_SESSIONS (7919 is prime, so every session
 * is visited in turn), and every tenth request is `POST /cart`, which changes one key of the session.
 * Needs valgrind (callgrind_control comes with it); without it the script says so and exits 0.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { Agent, request } from "node:http";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCENARIOS } from "./lib/scenarios.js";
import { login, loginMany, startServer, type RunningServer } from "./lib/processes.js";
import { markdownTable, writeSection } from "./lib/report.js";
import { byCategory, callsTo, readDump } from "./lib/callgrind.js";
import { FASTIFY_SETUPS, HONO_SETUPS } from "./lib/framework-servers.js";
import { summarizeChanges, tierChangesIn } from "./lib/v8-trace.js";

const WARMUP = Number(process.env.BENCH_STEADY_WARMUP ?? 6000);
const SETTLE = Number(process.env.BENCH_STEADY_SETTLE ?? 4000);
const MAX_WARMUP = Number(process.env.BENCH_STEADY_MAX_WARMUP ?? 40_000);
const PROBE = 1000;
const JOBS = Number(process.env.BENCH_STEADY_JOBS ?? 1);
// bench:instructions' V8 flags (see there): one thread, a fixed GC schedule and seeds, so the count follows the code.
const SERVER_FLAGS = `${process.env.BENCH_SERVER_FLAGS ?? ""} --single-threaded --predictable-gc-schedule --hash-seed=1 --random-seed=1`.trim();
const COUNT = Number(process.env.BENCH_STEADY_COUNT ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_STEADY_CONNECTIONS ?? 1);
const MIX = process.env.BENCH_STEADY_WORKLOAD === "mix";
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const DEFAULT_IDS = ["fastify", "fastify-floor", "fastify-session", "cr-fastify", "hono", "hono-floor", "cr-hono", "bare", "floor-proto", "cr-memory"];

interface Row {
  id: string;
  label: string;
  perRequest: number | null;
  note: string;
  measured: Measured | null;
}

/**
 * Serve `amount` dashboard requests over CONNECTIONS keep-alive connections, each request sent when the previous
 * answer on its connection is read; a reason string when any failed. A plain `http.request` loop, not the bench's
 * autocannon process: under callgrind, a server driven by autocannon was still spending 57 % of the counted window
 * in V8's optimizing compiler after 6,000 requests (this loop: 4 %), which is not steady state (bench/README.md).
 */
async function serve(agent: Agent, server: RunningServer, cookies: string[], amount: number): Promise<string | null> {
  let left = amount;
  let sent = 0;
  let failed: string | null = null;
  const one = (): Promise<number> => new Promise((resolve, reject) => {
    const i = sent++;
    const cookie = cookies[(i * 7919) % cookies.length]!;
    const write = MIX && i % 10 === 9;
    const options = { host: "127.0.0.1", port: server.port, method: write ? "POST" : "GET", path: write ? "/cart" : "/dashboard", headers: { cookie }, agent };
    const req = request(options, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (left > 0 && failed === null) {
      left -= 1;
      const status = await one().catch((error: unknown) => `error ${String(error)}`);
      if (status !== 200) failed = `a request answered ${status}`;
    }
  }));
  return failed;
}

/** What one row's run measured. */
interface Measured {
  total: number;
  /** Requests served before the counters were zeroed. */
  warmup: number;
  /** Whether the warm-up ended on SETTLE quiet requests (false: it stopped at MAX_WARMUP still tiering up). */
  settled: boolean;
  /** Mark-compacts, and incremental markings begun, inside the window (from the dump's call counts). */
  majorGcs: number;
  markings: number;
  /** Optimizing compiles and deoptimizations inside the window (V8's trace). */
  changes: string[];
  /** Per request: the window's garbage-collector and optimizing-compiler categories. */
  gc: number;
  compiler: number;
}

/**
 * Serve until the server's code has settled: at least `least` requests, then stretches of PROBE until the last SETTLE
 * requests began no optimizing compile and caused no deoptimization (V8's trace file), at most MAX_WARMUP in all.
 * The same rule for every row: each stops when its own code stops changing, not after a count that suits one row.
 */
async function settle(agent: Agent, server: RunningServer, cookies: string[], trace: string, least: number, served: number): Promise<{ served: number; settled: boolean } | string> {
  let changes = (await tierChangesIn(trace)).length;
  let quietSince = served;
  const start = served;
  while (served < MAX_WARMUP) {
    const amount = served - start < least ? least : PROBE;
    const failed = await serve(agent, server, cookies, amount);
    if (failed) return `warm-up: ${failed}`;
    served += amount;
    const seen = (await tierChangesIn(trace)).length;
    console.log(`  ${server.id}: ${served} requests served, ${seen - changes} tier changes in the last ${amount}`);
    if (seen !== changes) [changes, quietSince] = [seen, served];
    if (served - quietSince >= SETTLE) return { served, settled: true };
  }
  return { served, settled: false };
}

/**
 * The warm-up: settle, one full GC, settle again (at least SETTLE requests after the GC). The GC fixes where in the
 * old generation's cycle every row's window lies; the second settling keeps out of the window whatever the GC or
 * the signal that asked for it changed in the compiled code.
 */
async function warmUp(agent: Agent, server: RunningServer, cookies: string[], trace: string): Promise<{ served: number; settled: boolean } | string> {
  const first = await settle(agent, server, cookies, trace, WARMUP, 0);
  if (typeof first === "string") return first;
  await collectGarbage(server);
  const second = await settle(agent, server, cookies, trace, SETTLE, first.served);
  if (typeof second === "string") return second;
  return { served: second.served, settled: first.settled && second.settled };
}

/** One full collection in the server (SIGUSR2: server.ts collectOnSignal), resolved when it has printed "collected". */
function collectGarbage(server: RunningServer): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not answer SIGUSR2 (collected) within 5 minutes")), 300_000);
    const listen = (chunk: Buffer): void => {
      if (!chunk.toString().includes("collected")) return;
      clearTimeout(timer);
      server.child.stdout!.off("data", listen);
      resolve();
    };
    server.child.stdout!.on("data", listen);
    server.child.kill("SIGUSR2");
  });
}

async function measure(id: string): Promise<Measured | string> {
  const dir = await mkdtemp(join(tmpdir(), "cloakroom-steady-"));
  const trace = join(dir, "v8-code-trace.log");
  try {
    const flags = `${SERVER_FLAGS} --trace-opt --trace-deopt --redirect-code-traces --redirect-code-traces-to=${trace} --expose-gc`;
    const server = await startServer(id, { BENCH_SERVER_WRAPPER: `valgrind --tool=callgrind --callgrind-out-file=${join(dir, "out.%p")}`, BENCH_SERVER_FLAGS: flags });
    if ("skipped" in server) return server.skipped;
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    let warm: { served: number; settled: boolean };
    let before: number;
    let changes: string[] = [];
    try {
      const scenario = SCENARIOS.find((s) => s.id === id)!;
      const cookies = scenario.authless ? ["none=1"] : MIX ? await loginMany(server.port, SESSIONS) : [await login(server.port, "user-steady")];
      const warmed = await warmUp(agent, server, cookies, trace);
      if (typeof warmed === "string") return warmed;
      warm = warmed;
      before = (await tierChangesIn(trace)).length;
      execFileSync("callgrind_control", ["-z", String(server.child.pid)], { stdio: "ignore" });
      const counted = await serve(agent, server, cookies, COUNT);
      if (counted) return counted;
      execFileSync("callgrind_control", ["-d", String(server.child.pid)], { stdio: "ignore" });
      // Read now: closing the connection and stopping the server deoptimize stream code after the window.
      changes = (await tierChangesIn(trace)).slice(before);
    } finally {
      agent.destroy();
      await server.stop();
    }
    // The dump after the zeroing is the file with the ".1" suffix (the final one at exit has none).
    for (const file of await readdir(dir)) {
      if (!file.endsWith(".1")) continue;
      const match = /^summary: (\d+)/m.exec(await readFile(join(dir, file), "utf8"));
      if (!match) continue;
      const dump = await readDump(join(dir, file));
      // Where the window's instructions went (V8 runtime, GC, compiler, builtins, JIT code …), per request.
      const categories = byCategory(dump.self);
      for (const [category, cost] of categories) console.log(`  ${id}: ${String(Math.round(cost / COUNT)).padStart(7)}  ${category}`);
      const perRequest = (name: string): number => (categories.find(([c]) => c === name)?.[1] ?? 0) / COUNT;
      return {
        total: Number(match[1]),
        warmup: warm.served,
        settled: warm.settled,
        majorGcs: callsTo(dump, /^v8::internal::Heap::MarkCompact\(\)$/),
        markings: callsTo(dump, /^v8::internal::IncrementalMarking::StartMarkingMajor\(\)$/),
        changes,
        gc: perRequest("garbage collector"),
        compiler: perRequest("optimizing compiler"),
      };
    }
    return "callgrind wrote no dump";
  } finally {
    if (process.env.BENCH_STEADY_KEEP === "1") console.log(`  ${id}: callgrind dumps kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** The row a setup is compared with: its own framework's bare row. */
function baselineOf(id: string): string {
  if (FASTIFY_SETUPS.includes(id)) return "fastify";
  if (HONO_SETUPS.includes(id)) return "hono";
  return "bare";
}

/** What fell in a row's window besides its requests: "clean", or the major GCs and tier changes. */
function windowNote(r: Measured): string {
  const notes: string[] = [];
  if (r.majorGcs || r.markings) notes.push(`${r.majorGcs} mark-compact${r.majorGcs === 1 ? "" : "s"}, ${r.markings} marking${r.markings === 1 ? "" : "s"} begun`);
  if (r.changes.length) notes.push(summarizeChanges(r.changes));
  if (!r.settled) notes.push(`still tiering up at ${r.warmup} requests`);
  return notes.length ? notes.join("; ") : "clean";
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0 || spawnSync("callgrind_control", ["-h"]).error) {
    console.log("skip: valgrind is not installed (apt-get install valgrind); nothing measured");
    return;
  }
  // A request under callgrind takes ~50× its native wall time: stretch cloakroom's 60 s touch window to 28 min (below
  // the 30 min idle timeout), so the counted requests are read-only, as they are at native speed (one touch per
  // session-minute is one per ~300,000 requests there). Without it a touch fell every ~1,500 counted requests and each
  // one sent the commit path back through the optimizing compiler: 10–15k per request of compiler work (2026-12-02).
  // CachedStore's 5 s ttl likewise (lib/scenarios.ts cacheTtlOverride): the counted requests are cache hits.
  process.env.BENCH_TOUCH_AFTER ??= "1700000";
  process.env.BENCH_CACHE_TTL ??= "1700000";
  // And the in-process stores' sweep (60 s → 50 min): lib/scenarios.ts sweepIntervalOverride.
  process.env.BENCH_SWEEP_INTERVAL ??= "3000000";
  const ids = (process.argv[2] ?? process.env.BENCH_ONLY)?.split(",").map((id) => id.trim()).filter(Boolean) ?? DEFAULT_IDS;
  const rows: Row[] = [];
  // BENCH_STEADY_JOBS rows at a time (callgrind's counts do not depend on the load; only the wall time does).
  let next = 0;
  await Promise.all(Array.from({ length: JOBS }, async () => {
    while (next < ids.length) {
      const index = next++;
      const id = ids[index]!;
      const scenario = SCENARIOS.find((s) => s.id === id);
      if (!scenario) throw new Error(`unknown setup ${id}`);
      const result = await measure(id);
      const row: Row = typeof result === "string"
        ? { id, label: scenario.label, perRequest: null, note: `skipped: ${result}`, measured: null }
        : { id, label: scenario.label, perRequest: result.total / COUNT, note: windowNote(result), measured: result };
      rows[index] = row;
      console.log(`${id.padEnd(16)} ${row.perRequest === null ? row.note : `${(row.perRequest / 1000).toFixed(1)}k instructions per request after ${row.measured!.warmup} requests (${row.note})`}`);
    }
  }));
  const perRequestOf = (id: string): number | null => rows.find((r) => r.id === id)?.perRequest ?? null;
  const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;
  const markdown = [
    `## Instructions per request at steady state (callgrind, ${MIX ? `${SESSIONS} sessions, every tenth request POST /cart` : "GET /dashboard"}, ${COUNT} requests counted after a settled warm-up, ${CONNECTIONS} connection${CONNECTIONS === 1 ? "" : "s"})`,
    "",
    `Warm-up: at least ${WARMUP} requests, then until ${SETTLE} requests in a row began no optimizing compile and no deoptimization; one full GC; the same again, at least ${SETTLE} requests (at most ${MAX_WARMUP} in all); the counters zeroed.`,
    "",
    markdownTable(
      ["setup", "instructions / request", "× its bare row", "warm-up (requests)", "in the window", "of it GC", "of it compiler"],
      rows.map((r) => {
        if (r.perRequest === null || r.measured === null) return [r.label, r.note, "—", "—", "—", "—", "—"];
        const base = perRequestOf(baselineOf(r.id));
        const ratio = base === null || r.id === baselineOf(r.id) ? "—" : `${(base / r.perRequest).toFixed(3)}×`;
        return [r.label, k(r.perRequest), ratio, String(r.measured.warmup), r.note, k(r.measured.gc), k(r.measured.compiler)];
      }),
    ),
    "",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection(process.env.BENCH_RESULTS ?? "steady", markdown, { warmup: WARMUP, settle: SETTLE, maxWarmup: MAX_WARMUP, count: COUNT, connections: CONNECTIONS, rows });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
