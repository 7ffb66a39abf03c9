/**
 * Profile the server of one or more scenarios under the /dashboard (or mix) workload and print the functions with
 * the most self time: `node --import tsx profile.ts cr-memory [workload] [seconds]`.
 * Writes the .cpuprofile files to bench/results/profiles/ (open them in Chrome DevTools for the call tree).
 */
import { readdir, readFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { RESULTS_DIR } from "./lib/report.js";
import { SCENARIOS } from "./lib/scenarios.js";
import { login, loginMany, startLoadGenerator, startServer } from "./lib/processes.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function main(): Promise<void> {
  const ids = (process.argv[2] ?? "cr-memory").split(",");
  const workload = (process.argv[3] ?? "dashboard") as "dashboard" | "mix";
  const seconds = Number(process.argv[4] ?? 5);
  const dir = join(RESULTS_DIR, "profiles");
  await mkdir(dir, { recursive: true });
  const load = await startLoadGenerator();
  for (const id of ids) {
    const profileDir = join(dir, id);
    await rm(profileDir, { recursive: true, force: true });
    process.env.BENCH_SERVER_FLAGS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
    const server = await startServer(id);
    if ("skipped" in server) {
      console.log(`${id}: skipped (${server.skipped})`);
      continue;
    }
    let result;
    try {
      const cookies = SCENARIOS.find((s) => s.id === id)?.authless ? ["none=1"] : workload === "mix" ? await loginMany(server.port, 2000) : [await login(server.port, "user-profile")];
      await load.run({ port: server.port, workload, cookies, duration: 2, connections: 10 }); // warm-up
      result = await load.run({ port: server.port, workload, cookies, duration: seconds, connections: 10 });
    } finally {
      await server.stop(); // the profile is written when the server exits
    }
    const file = (await readdir(profileDir)).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no profile written for ${id}`);
    console.log(`\n## ${id} — ${workload}, ${Math.round(result.requestsPerSecond)} req/s while profiling (profiler overhead included)\n`);
    console.log(summarize(JSON.parse(await readFile(join(profileDir, file), "utf8")) as Profile));
  }
  await load.stop();
}

interface Profile {
  nodes: (ProfileNode & { children?: number[] })[];
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(packages|bench)\//, "$1/");
}

/** Which part of the stack a frame belongs to, for the per-module split. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const short = shortUrl(url);
  if (short.startsWith("packages/cloakroom")) return "cloakroom";
  if (short.startsWith("node:")) return short.split(":")[1]!.split("/").slice(0, 2).join("/");
  return short.split("/")[0]!.replace(/^@[^/]+$/, short.split("/").slice(0, 2).join("/"));
}

/** Self time per function and per module, and inclusive time of cloakroom's functions, as % of all samples. */
function summarize(profile: Profile): string {
  const total = profile.nodes.reduce((sum, n) => sum + n.hitCount, 0);
  const pct = (hits: number): string => `${((100 * hits) / total).toFixed(1).padStart(5)} %`;
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || "(anonymous)"} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ""}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount);
    const module = moduleOf(url, functionName);
    byModule.set(module, (byModule.get(module) ?? 0) + node.hitCount);
  }
  // Inclusive time of cloakroom frames: a sample counts once per function even when it recurses.
  const inclusive = new Map<string, number>();
  const walk = (id: number, stack: Set<string>): number => {
    const node = nodes.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = moduleOf(url, functionName) === "cloakroom" ? `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}` : null;
    const fresh = name !== null && !stack.has(name);
    if (fresh) stack.add(name);
    let hits = node.hitCount;
    for (const child of node.children ?? []) hits += walk(child, stack);
    if (fresh) {
      stack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
    }
    return hits;
  };
  walk(profile.nodes[0]!.id, new Set());
  const top = (map: Map<string, number>, n: number): string =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => `${pct(hits)}  ${name}`).join("\n");
  return [
    "self time by module:",
    top(byModule, 14),
    "",
    "self time by function:",
    top(byFunction, 25),
    ...(inclusive.size ? ["", "inclusive time of cloakroom functions (callees included):", top(inclusive, 25)] : []),
  ].join("\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
