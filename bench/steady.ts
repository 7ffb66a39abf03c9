/**
 * `npm run bench:steady -w @cloakroom/bench [-- ids]`: instructions per request at steady state, counted by valgrind's
 * callgrind in ONE server run: the server serves WARMUP `GET /dashboard` requests (V8's tier-up compiles of the
 * framework's and the session layer's code happen there), callgrind's counters are zeroed (`callgrind_control -z`),
 * COUNT more requests are served, and the counters are dumped (`callgrind_control -d`). The dump is those COUNT
 * requests and nothing else: no start-up, no warm-up, no shutdown to cancel out.
 *
 * Why beside bench:instructions: that one counts the difference of a 1,000- and a 3,000-request run, a window where
 * V8 is still compiling the code of the request path (under --trace-opt, 50–70 functions get optimized in it on
 * Fastify and Hono), so its figures are mostly warm-up and move from run to run (bare Fastify: 442k on 2026-12-01,
 * 588k on 2026-12-02). Here the count also says whether a major GC fell in the window (`--trace-gc-nvp`): one
 * costs 100–200M instructions, 25–50k per request over 4,000 requests, so a row with one is reported as such.
 *
 * Env: BENCH_TOUCH_AFTER (cloakroom's touchAfter in the servers, 1,700,000 ms here: see main()), BENCH_STEADY_WARMUP (6000), BENCH_STEADY_COUNT (4000), BENCH_STEADY_CONNECTIONS (1: requests one at a time),
 * BENCH_RESULTS names the results/<name>.md/.json written (default "steady"). BENCH_STEADY_KEEP=1 keeps the callgrind dumps (their directory is printed) for callgrind_annotate.
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
import { byCategory, selfCosts } from "./lib/callgrind.js";

const WARMUP = Number(process.env.BENCH_STEADY_WARMUP ?? 6000);
const COUNT = Number(process.env.BENCH_STEADY_COUNT ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_STEADY_CONNECTIONS ?? 1);
const MIX = process.env.BENCH_STEADY_WORKLOAD === "mix";
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const DEFAULT_IDS = ["fastify", "fastify-floor", "fastify-session", "cr-fastify", "hono", "hono-floor", "cr-hono", "bare", "floor-proto", "cr-memory"];

interface Row {
  id: string;
  label: string;
  perRequest: number | null;
  majorGcs: number;
  note: string;
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

async function measure(id: string): Promise<{ total: number; majorGcs: number } | string> {
  const dir = await mkdtemp(join(tmpdir(), "cloakroom-steady-"));
  try {
    const server = await startServer(id, { BENCH_SERVER_WRAPPER: `valgrind --tool=callgrind --callgrind-out-file=${join(dir, "out.%p")}` });
    if ("skipped" in server) return server.skipped;
    let gcLog = "";
    let counting = false;
    server.child.stdout!.on("data", (chunk: Buffer) => {
      if (counting) gcLog += chunk.toString();
    });
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    try {
      const scenario = SCENARIOS.find((s) => s.id === id)!;
      const cookies = scenario.authless ? ["none=1"] : MIX ? await loginMany(server.port, SESSIONS) : [await login(server.port, "user-steady")];
      const warm = await serve(agent, server, cookies, WARMUP);
      if (warm) return `warm-up: ${warm}`;
      execFileSync("callgrind_control", ["-z", String(server.child.pid)], { stdio: "ignore" });
      counting = true;
      const counted = await serve(agent, server, cookies, COUNT);
      counting = false;
      if (counted) return counted;
      execFileSync("callgrind_control", ["-d", String(server.child.pid)], { stdio: "ignore" });
    } finally {
      agent.destroy();
      await server.stop();
    }
    // The dump after the zeroing is the file with the ".1" suffix (the final one at exit has none).
    for (const file of await readdir(dir)) {
      if (!file.endsWith(".1")) continue;
      const match = /^summary: (\d+)/m.exec(await readFile(join(dir, file), "utf8"));
      if (!match) continue;
      // Where the window's instructions went (V8 runtime, GC, compiler, builtins, JIT code …), per request.
      for (const [category, cost] of byCategory(await selfCosts(join(dir, file)))) console.log(`  ${id}: ${String(Math.round(cost / COUNT)).padStart(7)}  ${category}`);
      return { total: Number(match[1]), majorGcs: (gcLog.match(/gc=mc/g) ?? []).length };
    }
    return "callgrind wrote no dump";
  } finally {
    if (process.env.BENCH_STEADY_KEEP === "1") console.log(`  ${id}: callgrind dumps kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0 || spawnSync("callgrind_control", ["-h"]).error) {
    console.log("skip: valgrind is not installed (apt-get install valgrind); nothing measured");
    return;
  }
  // The flags of bench:instructions (see there), and V8's GC trace on the server's stdout to spot a major GC.
  // A request under callgrind takes ~50× its native wall time: stretch cloakroom's 60 s touch window to 28 min (below
  // the 30 min idle timeout), so the counted requests are read-only, as they are at native speed (one touch per
  // session-minute is one per ~300,000 requests there). Without it a touch fell every ~1,500 counted requests and each
  // one sent the commit path back through the optimizing compiler: 10–15k per request of compiler work (2026-12-02).
  // CachedStore's 5 s ttl likewise (lib/scenarios.ts cacheTtlOverride): the counted requests are cache hits.
  process.env.BENCH_TOUCH_AFTER ??= "1700000";
  process.env.BENCH_CACHE_TTL ??= "1700000";
  process.env.BENCH_SERVER_FLAGS = `${process.env.BENCH_SERVER_FLAGS ?? ""} --single-threaded --predictable-gc-schedule --hash-seed=1 --random-seed=1 --trace-gc-nvp`.trim();
  const ids = (process.argv[2] ?? process.env.BENCH_ONLY)?.split(",").map((id) => id.trim()).filter(Boolean) ?? DEFAULT_IDS;
  const rows: Row[] = [];
  for (const id of ids) {
    const scenario = SCENARIOS.find((s) => s.id === id);
    if (!scenario) throw new Error(`unknown setup ${id}`);
    const result = await measure(id);
    rows.push(typeof result === "string"
      ? { id, label: scenario.label, perRequest: null, majorGcs: 0, note: `skipped: ${result}` }
      : { id, label: scenario.label, perRequest: result.total / COUNT, majorGcs: result.majorGcs, note: "" });
    const last = rows.at(-1)!;
    console.log(`${id.padEnd(16)} ${last.perRequest === null ? last.note : `${Math.round(last.perRequest / 1000)}k instructions per request${last.majorGcs ? ` (${last.majorGcs} major GC in the window)` : ""}`}`);
  }
  const markdown = [
    `## Instructions per request at steady state (callgrind, ${MIX ? `${SESSIONS} sessions, every tenth request POST /cart` : "GET /dashboard"}, ${COUNT} requests after ${WARMUP}, ${CONNECTIONS} connection${CONNECTIONS === 1 ? "" : "s"})`,
    "",
    markdownTable(
      ["setup", "instructions / request", "major GCs in the window"],
      rows.map((r) => [r.label, r.perRequest === null ? r.note : `${(r.perRequest / 1000).toFixed(1)}k`, r.perRequest === null ? "—" : String(r.majorGcs)]),
    ),
    "",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection(process.env.BENCH_RESULTS ?? "steady", markdown, { warmup: WARMUP, count: COUNT, connections: CONNECTIONS, rows });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
