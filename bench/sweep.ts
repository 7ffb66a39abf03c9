/**
 * Sweep: the time to remove N expired sessions (default 1,000,000) per store, and the worst event-loop stall while
 * it runs (a 1 ms interval timer's largest lateness, and monitorEventLoopDelay's p99).
 * The stores get an injected clock: N sessions are stored "now", the clock moves past their idle timeout, then
 * `sweep()` runs. PostgreSQL rows are multiplied server-side from one row the store wrote (INSERT … SELECT over
 * generate_series), which takes seconds instead of minutes of single inserts.
 * While the sweep runs, four loops read 100 live sessions (store.get) as fast as they can: the read load the sweep must
 * not starve. Before it, the bytes on disk per session are printed for SQLite (file + WAL) and PostgreSQL (table,
 * TOAST and indexes).
 * Env: BENCH_SWEEP_SESSIONS, BENCH_SWEEP_STORES (default cr-memory,cr-sqlite,cr-postgres).
 */
import { PerformanceObserver, constants, monitorEventLoopDelay, type PerformanceEntry } from "node:perf_hooks";
import pg from "pg";
import { detectServices } from "./lib/processes.js";
import { markdownTable, writeSection } from "./lib/report.js";
import { POSTGRES_URL, SCENARIOS, TABLE, firstLine, makeCloakroomStore } from "./lib/scenarios.js";
import { minimalExpressSession, minimalRecord, newSessionId, newStoreKey } from "./lib/fill.js";

const COUNT = Number(process.env.BENCH_SWEEP_SESSIONS ?? 1_000_000);
const IDS = (process.env.BENCH_SWEEP_STORES ?? "cr-memory,cr-sqlite,cr-postgres").split(",");
const IDLE = 30 * 60_000;

type Store = {
  create(k: string, r: object): Promise<void>;
  get(k: string): Promise<object | null>;
  sweep(): Promise<number>;
  clear(): Promise<void>;
  close(): Promise<void>;
};
const READERS = 4;
const LIVE = 100;

/** Read live sessions in READERS loops until `done()`; resolves the number of reads. */
async function readLoad(store: Store, keys: string[], done: () => boolean): Promise<number> {
  let reads = 0;
  const loop = async (): Promise<void> => {
    while (!done()) {
      if ((await store.get(keys[reads % keys.length]!)) === null) throw new Error("a live session was not found during the sweep");
      reads += 1;
      // A store that answers from the process resolves without I/O: let timers (and a chunked sweep) run.
      if (reads % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: READERS }, loop));
  return reads;
}

interface StallReport {
  seconds: number;
  worstStallMs: number;
  p99DelayMs: number;
  /** The longest single GC pause (any kind) during the work, and its kind. */
  longestGcMs: number;
  longestGcKind: string;
  /** GC pauses (all kinds) that started inside the worst stall, summed: how much of that stall was the collector. */
  gcInWorstStallMs: number;
  majorGcs: number;
  /** This process's CPU time (all threads) over the wall time: well under 1 means it was waiting for a core. */
  cpuShare: number;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks",
};

/**
 * Run `work` while watching the event loop, and the garbage collector through perf_hooks' "gc" entries (the main
 * thread's pauses, as `--trace-gc` prints them), so a stall can be told apart from a collection.
 */
async function watchLoop<T>(work: () => Promise<T>): Promise<StallReport & { value: T }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const pauses: { start: number; duration: number; kind: string }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? "other";
      pauses.push({ start: entry.startTime, duration: entry.duration, kind });
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  let last = performance.now();
  let worst = 0;
  let worstFrom = last;
  const note = (now: number): void => {
    if (now - last - 1 > worst) {
      worst = now - last - 1;
      worstFrom = last;
    }
    last = now;
  };
  const ticker = setInterval(() => note(performance.now()), 1);
  histogram.enable();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const ended = performance.now();
  const { user, system } = process.cpuUsage(cpu);
  histogram.disable();
  clearInterval(ticker);
  note(ended);
  await new Promise((resolve) => setImmediate(resolve)); // let the observer hear of the last collections
  observer.disconnect();
  const during = pauses.filter((p) => p.start >= started && p.start <= ended);
  const longest = during.reduce((a, b) => (b.duration > a.duration ? b : a), { start: 0, duration: 0, kind: "—" });
  const inWorst = during.filter((p) => p.start >= worstFrom && p.start <= worstFrom + worst + 1);
  return {
    value,
    seconds: (ended - started) / 1000,
    worstStallMs: Math.max(0, worst),
    p99DelayMs: Math.max(0, histogram.percentile(99) / 1e6 - 1),
    longestGcMs: longest.duration,
    longestGcKind: longest.kind,
    gcInWorstStallMs: inWorst.reduce((sum, p) => sum + p.duration, 0),
    majorGcs: during.filter((p) => p.kind === "major").length,
    cpuShare: (user + system) / 1000 / (ended - started),
  };
}

/** The table's GC and CPU cells of one measurement. */
function gcCells(report: StallReport): string[] {
  return [
    report.longestGcMs > 0 ? `${report.longestGcMs.toFixed(1)} ms (${report.longestGcKind}; ${report.majorGcs} major)` : "none",
    `${report.gcInWorstStallMs.toFixed(1)} ms`,
    report.cpuShare.toFixed(2),
  ];
}

/** Multiply the one row already in the table to `count` rows, with fresh keys and users. */
async function multiplyPostgresRows(count: number): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const columns = (await client.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
      [TABLE],
    )).rows.map((r) => r.column_name);
    const replaced: Record<string, string> = {
      key_hash: "sha256(convert_to('bench-' || g, 'UTF8'))",
      key: "'bench-' || g",
      user_id: "'user-' || g",
    };
    const select = columns.map((c) => replaced[c] ?? `t.${c}`).join(", ");
    await client.query(`INSERT INTO ${TABLE} (${columns.join(", ")}) SELECT ${select} FROM ${TABLE} t CROSS JOIN generate_series(2, $1::int) g`, [count]);
  } finally {
    await client.end();
  }
}

async function measureStore(id: string): Promise<string[]> {
  let clock = Date.now();
  const made = await makeCloakroomStore(id, { now: () => clock, sweepInterval: 0 });
  const store = made.store as unknown as Store;
  try {
    await store.clear();
    const t0 = performance.now();
    const record = (i: number): object => minimalRecord(`user-${i}`, clock, IDLE);
    if (id === "cr-postgres") {
      await store.create(newStoreKey(), record(0));
      await multiplyPostgresRows(COUNT);
    } else {
      for (let i = 0; i < COUNT; i += 1) await store.create(newStoreKey(), record(i));
    }
    console.log(`  ${id}: ${COUNT.toLocaleString("en")} sessions stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const live = Array.from({ length: LIVE }, () => newStoreKey());
    for (const [i, key] of live.entries()) await store.create(key, minimalRecord(`reader-${i}`, clock, 24 * 3_600_000, 48 * 3_600_000));
    const disk = made.diskBytes ? (await made.diskBytes()) / (COUNT + LIVE) : null;
    if (disk !== null) console.log(`  ${id}: ${Math.round(disk)} B on disk per session`);
    clock += IDLE + 60_000;
    let sweeping = true;
    const reading = readLoad(store, live, () => !sweeping);
    const report = await watchLoop(async () => {
      try {
        return await store.sweep();
      } finally {
        sweeping = false;
      }
    });
    const reads = await reading;
    const readRate = reads / report.seconds;
    console.log(`  ${id}: removed ${report.value} in ${report.seconds.toFixed(2)} s, worst stall ${report.worstStallMs.toFixed(1)} ms (GC in it ${report.gcInWorstStallMs.toFixed(1)} ms), longest GC ${report.longestGcMs.toFixed(1)} ms ${report.longestGcKind}, ${Math.round(readRate)} reads/s meanwhile`);
    const label = SCENARIOS.find((s) => s.id === id)!.label.replace(/^cloakroom \+ /, "cloakroom ");
    return [
      label,
      report.value.toLocaleString("en"),
      `${report.seconds.toFixed(2)} s`,
      `${report.worstStallMs.toFixed(1)} ms`,
      `${report.p99DelayMs.toFixed(1)} ms`,
      ...gcCells(report),
      `${Math.round(readRate).toLocaleString("en")}`,
      disk === null ? "—" : `${Math.round(disk)} B`,
      "",
    ];
  } finally {
    await store.clear().catch(() => {});
    await store.close();
    await made.release();
  }
}

/** express-session's MemoryStore has no sweep; `all()` is the only call that drops every expired session. */
async function measureExpressSessionMemory(): Promise<string[]> {
  const { default: session } = await import("express-session");
  const store = new session.MemoryStore();
  const expires = new Date(Date.now() + 1000).toISOString();
  for (let i = 0; i < COUNT; i += 1) {
    const s = minimalExpressSession(`user-${i}`) as { cookie: { expires: string | null } };
    s.cookie.expires = expires;
    store.set(newSessionId(), s as never);
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const report = await watchLoop(() => new Promise<number>((resolve) => store.all(() => resolve(COUNT))));
  let left = 0;
  store.length((_error: unknown, n?: number) => (left = n ?? 0));
  return [
    "express-session MemoryStore",
    (COUNT - left).toLocaleString("en"),
    `${report.seconds.toFixed(2)} s`,
    `${report.worstStallMs.toFixed(1)} ms`,
    `${report.p99DelayMs.toFixed(1)} ms`,
    ...gcCells(report),
    "—",
    "—",
    "no sweep: expired sessions stay until read; all() prunes them in one synchronous pass",
  ];
}

async function main(): Promise<void> {
  const services = await detectServices();
  console.log(`sweep: ${COUNT.toLocaleString("en")} expired sessions per store`);
  const rows: string[][] = [];
  for (const id of IDS) {
    const scenario = SCENARIOS.find((s) => s.id === id);
    if (!scenario) throw new Error(`unknown store ${id}`);
    const missing = scenario.needs.filter((n) => !services[n]);
    if (missing.length) {
      rows.push([scenario.label, "skipped", "", "", "", "", "", "", "", "", `${missing.join(", ")} not reachable`]);
      continue;
    }
    try {
      rows.push(await measureStore(id));
    } catch (error) {
      rows.push([scenario.label, "skipped", "", "", "", "", "", "", "", "", firstLine(error)]);
    }
  }
  rows.push(await measureExpressSessionMemory());
  rows.push(["cloakroom RedisStore, MemcachedStore", "—", "—", "—", "—", "—", "—", "—", "—", "—", "native TTL: the server expires records, sweep() is a no-op"]);
  const markdown = [
    `## Sweep of ${COUNT.toLocaleString("en")} expired sessions`,
    "",
    markdownTable(["store", "removed", "time", "worst event-loop stall", "loop delay p99", "longest GC pause", "GC inside the worst stall", "CPU ÷ wall", `reads/s meanwhile (${READERS} loops)`, "on disk per session", "note"], rows),
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("sweep", markdown, { count: COUNT, rows });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
