/**
 * A throwaway 3-master Redis Cluster on loopback for the RedisStore suite: real redis-server processes (no mocks),
 * started in a temporary directory and removed afterwards.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A running cluster: the seed nodes to give ioredis, and how to tear it down. */
export interface RedisClusterHandle {
  nodes: Array<{ host: string; port: number }>;
  /** Kill every redis-server and remove the temporary directory. */
  stop(): Promise<void>;
}

/**
 * Resolve whether redis-server and redis-cli are installed. Prints one line and returns false when they are not;
 * throws under CI=true, where the Cluster suite must run.
 */
export async function redisClusterBinariesAvailable(): Promise<boolean> {
  try {
    await run("redis-server", ["--version"]);
    await run("redis-cli", ["--version"]);
    return true;
  } catch {
    const why = "redis-server/redis-cli are not installed";
    if (process.env.CI === "true") throw new Error(`${why} (CI=true: store suites never skip)`);
    console.warn(`SKIPPED Redis Cluster suite: ${why}`);
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Ports P whose cluster bus port P + 10000 is free too, below the usual ephemeral range's collisions. */
async function pickPorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const checks = await Promise.all(ports.flatMap((p) => [portIsFree(p), portIsFree(p + 10_000)]));
    if (checks.every(Boolean)) return ports;
  }
  throw new Error("no free ports for a Redis Cluster");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`Redis Cluster: timed out waiting for ${what}`);
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  return stdout;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/**
 * Start `masters` redis-server processes with cluster mode on, join them with `redis-cli --cluster create`, and wait
 * until every node reports `cluster_state:ok`.
 * @param options.masters how many masters (no replicas)
 * @default options.masters 3
 * @returns the seed nodes and a stop() that kills the processes and deletes the directory
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const dir = await mkdtemp(path.join(tmpdir(), "cloakroom-redis-cluster-"));
  const ports = await pickPorts(masters);
  const children = ports.map((port) =>
    spawn(
      "redis-server",
      [
        "--port", String(port),
        "--bind", "127.0.0.1",
        "--cluster-enabled", "yes",
        "--cluster-config-file", path.join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout", "2000",
        "--save", "",
        "--appendonly", "no",
        "--dir", dir,
        "--daemonize", "no",
      ],
      { stdio: "ignore" },
    ),
  );
  // If the test process dies without afterAll, don't leave servers behind.
  const killAll = (): void => children.forEach((child) => child.kill("SIGKILL"));
  process.once("exit", killAll);
  const stop = async (): Promise<void> => {
    process.removeListener("exit", killAll);
    await Promise.all(children.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitFor(`redis-server on ${port}`, async () => (await cli(port, "PING")).trim() === "PONG");
    await run("redis-cli", [
      "--cluster", "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas", "0",
      "--cluster-yes",
    ]);
    for (const port of ports) {
      await waitFor(`cluster_state:ok on ${port}`, async () => (await cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok"));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: ports.map((port) => ({ host: "127.0.0.1", port })), stop };
}
