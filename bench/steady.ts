/**
 * `npm run bench:steady -w @cloakroom/bench -- ids [warm-up] [measured]`: instructions per request at steady state,
 * and where they go. bench:instructions counts whole runs (1,000 and 3,000 requests) and subtracts, so what V8 still
 * compiles or tiers up between the two runs lands in its figure; here the server first serves `warm-up` requests
 * (default 5,000), then callgrind's counters are zeroed (`callgrind_control --zero`), `measured` requests (default
 * 5,000) are served, and the counters are dumped. One connection, so no batching changes the count.
 *
 * Prints per setup the instructions per request, split by what they were spent on (lib/callgrind.ts), and the
 * functions with the most self cost (V8 builtins, runtime and GC by name; JIT-compiled JavaScript shows as
 * addresses: with BENCH_SERVER_FLAGS=--perf-basic-prof, /tmp/perf-<pid>.map names them). With
 * `BENCH_STEADY_KEEP=dir` the dumps are kept there for callgrind_annotate.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, copyFile, mkdir } from "node:fs/promises";
import { byCategory, selfCosts } from "./lib/callgrind.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCENARIOS } from "./lib/scenarios.js";
import { login, startLoadGenerator, startServer, type LoadGenerator } from "./lib/processes.js";

const WARMUP = Number(process.argv[3] ?? 5000);
const MEASURED = Number(process.argv[4] ?? 5000);
const TOP = Number(process.env.BENCH_STEADY_TOP ?? 25);

function control(args: string[]): void {
  const result = spawnSync("callgrind_control", args, { encoding: "utf8" });
  if (result.status !== 0 || !/OK/.test(result.stdout)) throw new Error(`callgrind_control ${args.join(" ")}: ${result.stdout}${result.stderr}`);
}

async function measure(id: string, load: LoadGenerator): Promise<{ perRequest: number; top: string } | string> {
  const dir = await mkdtemp(join(tmpdir(), "cloakroom-steady-"));
  try {
    const wrapper = `valgrind --tool=callgrind --callgrind-out-file=${join(dir, "out.%p")}`;
    const server = await startServer(id, { BENCH_SERVER_WRAPPER: wrapper });
    if ("skipped" in server) return server.skipped;
    const pid = String(server.child.pid);
    try {
      const scenario = SCENARIOS.find((s) => s.id === id)!;
      const cookie = scenario.authless ? "none=1" : await login(server.port, "user-steady");
      const job = { port: server.port, workload: "dashboard" as const, cookies: [cookie], duration: 0, connections: 1 };
      const warm = await load.run({ ...job, amount: WARMUP });
      if (warm.non2xx + warm.errors > 0) return `${warm.non2xx} non-2xx and ${warm.errors} errors`;
      control(["--zero", pid]);
      const run = await load.run({ ...job, amount: MEASURED });
      if (run.non2xx + run.errors > 0 || run.total !== MEASURED) return `${run.total} requests, ${run.non2xx} non-2xx, ${run.errors} errors`;
      control(["--dump", pid]);
    } finally {
      await server.stop();
    }
    const dump = (await readdir(dir)).find((f) => f.startsWith(`out.${pid}.`));
    if (!dump) return "callgrind wrote no dump";
    const keep = process.env.BENCH_STEADY_KEEP;
    if (keep) {
      await mkdir(keep, { recursive: true });
      await copyFile(join(dir, dump), join(keep, `${id}.callgrind`));
    }
    const costs = await selfCosts(join(dir, dump));
    const total = [...costs.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return "callgrind dumped no costs";
    const perRequest = total / MEASURED;
    const format = (cost: number): string => String(Math.round(cost / MEASURED)).padStart(8);
    const categories = byCategory(costs).map(([name, cost]) => `  ${format(cost)}  ${name}`);
    const functions = [...costs].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([name, cost]) => `  ${format(cost)}  ${name.slice(0, 110)}`);
    const top = ["  by category (self cost per request):", ...categories, "  functions with the most self cost per request:", ...functions].join("\n");
    return { perRequest, top };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.log("skip: valgrind is not installed (apt-get install valgrind); nothing measured");
    return;
  }
  // The same V8 flags as bench:instructions (see there why).
  process.env.BENCH_SERVER_FLAGS = `${process.env.BENCH_SERVER_FLAGS ?? ""} --single-threaded --predictable-gc-schedule --hash-seed=1 --random-seed=1`.trim();
  const ids = (process.argv[2] ?? "bare,floor-proto,cr-memory").split(",").filter(Boolean);
  const load = await startLoadGenerator();
  const rows: [string, number | string][] = [];
  try {
    for (const id of ids) {
      if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown setup ${id}`);
      const result = await measure(id, load);
      rows.push([id, typeof result === "string" ? result : result.perRequest]);
      if (typeof result === "string") console.log(`${id}: skipped (${result})`);
      else console.log(`\n## ${id}: ${Math.round(result.perRequest / 100) / 10}k instructions per request (steady state)\n${result.top}`);
    }
  } finally {
    await load.stop();
  }
  const base = rows.find(([, v]) => typeof v === "number")?.[1] as number | undefined;
  console.log(`\n| setup | instructions / request | × ${rows[0]?.[0]} |\n|---|---|---|`);
  for (const [id, v] of rows) console.log(`| ${id} | ${typeof v === "number" ? `${Math.round(v / 1000)}k` : v} | ${typeof v === "number" && base ? `${(base / v).toFixed(2)}×` : "—"} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
