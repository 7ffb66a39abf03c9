/**
 * Private Redis and PostgreSQL server processes that an outage test can kill and start again, on free ports, with
 * their data in a temp folder. The machine's shared servers are never touched.
 *
 * Availability follows packages/cloakroom/test/servers.ts: outside CI a missing binary skips the suite with one line;
 * with CI=true it throws (CI's .ci/run installs both servers).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { closedPort } from "../../../packages/cloakroom/test/servers.js";

/** Server processes still running, killed if the test process exits without cleaning up (a crash, a hard timeout). */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** A server process the test owns. */
export interface OwnedServer {
  url: string;
  port: number;
  /** Kill the process (SIGKILL by default: a crash, no clean shutdown) and wait for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and data folder; resolves when it accepts queries. */
  restart(): Promise<void>;
  /** Kill it if running and delete its data folder. Never throws. */
  cleanup(): Promise<void>;
}

/** Resolve whether a suite that needs `binary` runs: true, or one line and false, or a throw under CI=true. */
export function binaryAvailable(name: string, binary: string | null): boolean {
  if (binary !== null && fs.existsSync(binary)) return true;
  const why = `${name} is not installed${binary ? ` (${binary})` : ""}`;
  if (process.env.CI === "true") throw new Error(`${why} (CI=true: outage suites never skip)`);
  console.warn(`SKIPPED ${name} outage suite: ${why}`);
  return false;
}

/** The redis-server binary on PATH, or null. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "redis-server");
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The folder with PostgreSQL's initdb and postgres (Debian layout first, then PATH), or null. */
export function findPostgresBin(): string | null {
  const debian = "/usr/lib/postgresql";
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (fs.existsSync(path.join(debian, v, "bin", "initdb"))) return path.join(debian, v, "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "postgres"))) return dir;
  }
  return null;
}

/** A TCP port nobody listens on right now. */
export const freePort = closedPort;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => (socket.destroy(), resolve(false)));
  });
}

async function waitUntil(what: string, ready: () => Promise<boolean>, child: ChildProcess, logs: () => string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited: ${logs().trim().split("\n").slice(-3).join(" | ")}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready within ${limitMs} ms`);
}

function exitOf(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * A private redis-server. With `appendonly`, every write is fsynced to the AOF before it is acknowledged
 * (`appendfsync always`), so a SIGKILL loses nothing that was acknowledged.
 */
export async function startRedisServer(options: { appendonly: boolean }): Promise<OwnedServer> {
  const binary = findRedisServer();
  if (!binary) throw new Error("redis-server is not installed");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-outage-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push(...(options.appendonly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
  let child: ChildProcess | undefined;
  let logs = "";
  const start = async (): Promise<void> => {
    const c = track(spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: true }));
    child = c;
    c.stdout?.on("data", (chunk) => (logs += String(chunk)));
    c.stderr?.on("data", (chunk) => (logs += String(chunk)));
    // Ready means the data set is loaded (the AOF replayed), not just the port open.
    await waitUntil("redis-server", async () => logs.includes("Ready to accept connections") && (await canConnect(port)), c, () => logs);
  };
  const kill = async (signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    const c = child;
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(-c.pid, signal);
    await exitOf(c);
  };
  try {
    await start();
  } catch (error) {
    await kill();
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: () => {
      logs = "";
      return start();
    },
    async cleanup() {
      await kill().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** uid and gid of the `postgres` account (initdb and postgres refuse to run as root). */
function postgresAccount(): { uid: number; gid: number } | null {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A private PostgreSQL cluster (initdb in a temp folder, trust auth, user `postgres`, database `postgres`), run as the
 * `postgres` account when the test runs as root. `kill()` sends SIGQUIT to the postmaster by default: PostgreSQL's
 * "immediate shutdown", which stops every backend at once without a checkpoint, so the restart runs crash recovery
 * from the WAL.
 */
export async function startPostgresServer(): Promise<OwnedServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL binaries are not installed");
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? postgresAccount() : null;
  if (asRoot && !account) throw new Error("running as root, and there is no postgres account to run PostgreSQL as");
  const ids = account ? { uid: account.uid, gid: account.gid } : {};
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-outage-pg-"));
  const data = path.join(root, "data");
  if (account) fs.chownSync(root, account.uid, account.gid);
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? "", LC_ALL: "C" };

  const init = spawnSync(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale"], { ...ids, env, encoding: "utf8" });
  if (init.status !== 0) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(init.stderr || init.stdout).trim().split("\n").slice(-2).join(" | ")}`);
  }
  const args = ["-D", data, "-p", String(port), "-k", root, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60", "-c", "shared_buffers=16MB"];
  let child: ChildProcess | undefined;
  let logs = "";
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async (): Promise<void> => {
    const c = track(spawn(path.join(bin, "postgres"), args, { ...ids, env, stdio: ["ignore", "pipe", "pipe"], detached: true }));
    child = c;
    c.stdout?.on("data", (chunk) => (logs += String(chunk)));
    c.stderr?.on("data", (chunk) => (logs += String(chunk)));
    await waitUntil("postgres", async () => logs.includes("database system is ready to accept connections") && (await canConnect(port)), c, () => logs, 30_000);
  };
  const kill = async (signal: NodeJS.Signals = "SIGQUIT"): Promise<void> => {
    const c = child;
    // The postmaster alone: it stops its backends itself (signalling the group could race it).
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, signal);
    await exitOf(c);
  };
  try {
    await start();
  } catch (error) {
    await kill("SIGKILL");
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    kill,
    restart: () => {
      logs = "";
      return start();
    },
    async cleanup() {
      await kill().catch(() => {});
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
