/**
 * Child processes (the server under test, the load generator), CPU pinning, service detection, and logging in.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import type { LoadJob, LoadResult } from "../load.js";
import { RUN_TAG } from "./tag.js";

/** How long a server may take to say "ready": minutes under valgrind on a loaded machine. */
const START_TIMEOUT_MS = Number(process.env.BENCH_START_TIMEOUT_MS ?? 300_000);

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const HAS_TASKSET = spawnSync("taskset", ["-V"]).status === 0;
export const SERVER_CORE = "0";
export const LOAD_CORE = "1";

/** `node --import tsx <file>`, under `taskset -c <core>` when taskset exists (and the machine has that core). */
function nodeCommand(file: string, args: string[], core: string, flags: string[] = []): [string, string[]] {
  const node = [process.execPath, "--import", join(BENCH_DIR, "lib/register.mjs"), ...flags, join(BENCH_DIR, file), ...args];
  return HAS_TASKSET ? ["taskset", ["-c", core, ...node]] : [node[0]!, node.slice(1)];
}

export function pinningNote(): string {
  return HAS_TASKSET ? `server pinned to CPU ${SERVER_CORE}, load generator to CPU ${LOAD_CORE} (taskset)` : "no taskset: processes not pinned";
}

export interface RunningServer {
  id: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const warmed = new Set<string>();

/**
 * Start the server for one scenario; resolves `{ skipped }` when it prints `skip <reason>`. A server to be run under
 * a wrapper (valgrind) is first started once natively and stopped, so that tsx's transform cache holds every file it
 * imports: a server that has to transform a file at start-up spawns esbuild's service, a child process that pings
 * its parent once a second for as long as the server lives, and under callgrind every ping's wake-up is counted
 * (~0.1M instructions each, by wall time, so the figure would move with the machine's load) — and only the first
 * of a row's runs would pay it, so a difference of two runs would be off (bench/README.md, session 8).
 */
export async function startServer(id: string, env: Record<string, string> = {}): Promise<RunningServer | { skipped: string }> {
  if (env.BENCH_SERVER_WRAPPER && !warmed.has(id)) {
    warmed.add(id);
    // Without the wrapper and without the measured run's flags (a trace file, --expose-gc): only the imports matter.
    const native = await launch(id, { ...env, BENCH_SERVER_WRAPPER: "", BENCH_SERVER_FLAGS: "" });
    if ("skipped" in native) return native;
    await native.stop();
  }
  const server = await launch(id, env);
  if (!("skipped" in server) && hasEsbuildChild(server.child.pid)) {
    console.log(`  ${id}: warning: the server runs an esbuild child (a transform at start-up): its pings are in the count`);
  }
  return server;
}

/** Whether a process has esbuild's service among its children (Linux /proc; false where that cannot be read). */
function hasEsbuildChild(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  const listed = spawnSync("pgrep", ["-P", String(pid), "-f", "esbuild"], { encoding: "utf8" });
  return listed.status === 0 && listed.stdout.trim() !== "";
}

function launch(id: string, env: Record<string, string>): Promise<RunningServer | { skipped: string }> {
  // BENCH_SERVER_FLAGS: extra node flags for the server only, e.g. "--cpu-prof --cpu-prof-dir=results/profiles";
  // env.BENCH_SERVER_FLAGS replaces it for one server (steady.ts: a trace file per run).
  const flags = (env.BENCH_SERVER_FLAGS ?? process.env.BENCH_SERVER_FLAGS)?.split(" ").filter(Boolean) ?? [];
  let [command, args] = nodeCommand("server.ts", [id], SERVER_CORE, flags);
  // env.BENCH_SERVER_WRAPPER: a command the server runs under (instructions.ts: valgrind), unpinned.
  const wrapper = env.BENCH_SERVER_WRAPPER?.split(" ").filter(Boolean);
  if (wrapper?.length) {
    const node = command === "taskset" ? args.slice(2) : [command, ...args];
    [command, args] = [wrapper[0]!, [...wrapper.slice(1), ...node]];
  }
  // The run's tag unless the caller gives a server its own (scale.ts: one per size): lib/tag.ts.
  const child = spawn(command, args, { cwd: BENCH_DIR, env: { ...process.env, BENCH_TAG: RUN_TAG, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  return new Promise((resolve) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ skipped: `server did not start within ${START_TIMEOUT_MS / 1000} s ${stderr.split("\n").slice(-3).join(" ")}` });
    }, START_TIMEOUT_MS);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const ready = /ready (\d+)/.exec(buffered);
      const skip = /skip (.*)/.exec(buffered);
      if (ready) {
        clearTimeout(timer);
        resolve({ id, port: Number(ready[1]), child, stop: () => stopChild(child) });
      } else if (skip) {
        clearTimeout(timer);
        resolve({ skipped: skip[1]!.trim() });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ skipped: `server exited (${code}): ${stderr.trim().split("\n").slice(-2).join(" ").slice(0, 200)}` });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // The server removes its bench keys or rows on SIGTERM (up to a minute for a million Redis keys).
    const timer = setTimeout(() => child.kill("SIGKILL"), 65_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export interface LoadGenerator {
  run(job: LoadJob): Promise<LoadResult>;
  stop(): Promise<void>;
}

/** Start the long-lived load generator process. */
export function startLoadGenerator(): Promise<LoadGenerator> {
  const [command, args] = nodeCommand("load.ts", [], LOAD_CORE);
  const child = spawn(command, args, { cwd: BENCH_DIR, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();
  let nextId = 0;
  child.on("message", (message: { id?: number; result?: LoadResult; error?: string }) => {
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result!);
  });
  return new Promise((resolve, reject) => {
    child.once("message", () =>
      resolve({
        run(job) {
          const id = nextId++;
          return new Promise((res, rej) => {
            pending.set(id, { resolve: res, reject: rej });
            child.send({ id, job });
          });
        },
        stop: () => stopChild(child),
      }),
    );
    child.once("exit", (code) => reject(new Error(`load generator exited (${code})`)));
  });
}

/** Whether a TCP port answers (a quick check for Redis, PostgreSQL, Memcached). */
export function isPortOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function detectServices(): Promise<Record<"redis" | "postgres" | "memcached", boolean>> {
  const [redis, postgres, memcached] = await Promise.all([isPortOpen(6379), isPortOpen(5432), isPortOpen(11211)]);
  return { redis, postgres, memcached };
}

/** POST /login and return the `name=value` of the cookie it set. */
export async function login(port: number, userId: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId }),
  });
  const cookie = response.headers.getSetCookie()[0]?.split(";")[0];
  if (response.status !== 200 || !cookie) throw new Error(`login failed: ${response.status}`);
  return cookie;
}

/** Log `count` distinct users in through the server's own route; returns their cookies. */
export async function loginMany(port: number, count: number, prefix = "user"): Promise<string[]> {
  const cookies = new Array<string>(count);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next++;
      cookies[i] = await login(port, `${prefix}-${i}`);
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
  return cookies;
}

/** GET a path with a cookie; returns the status (used to check a setup really authenticates). */
export async function statusOf(port: number, path: string, cookie?: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} });
  await response.arrayBuffer();
  return response.status;
}

export interface ServerStats {
  counts: Record<string, number> | null;
  loop: { p50: number; p99: number; max: number; mean: number } | null;
  rss: number;
  cpuMicros: number;
}

export async function benchStats(port: number): Promise<ServerStats> {
  return (await fetch(`http://127.0.0.1:${port}/__bench/stats`)).json() as never;
}

export async function benchReset(port: number): Promise<void> {
  await (await fetch(`http://127.0.0.1:${port}/__bench/reset`, { method: "POST" })).text();
}
