/**
 * Which real servers the store suites can reach. Outside CI an unreachable server skips its suite with one line
 * saying why; with CI=true it fails the run (CI's .ci/run starts every server first).
 */
import net from "node:net";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MEMCACHED_URL = process.env.MEMCACHED_URL ?? "127.0.0.1:11211";

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url.includes("://") ? url : `tcp://${url}`);
  return { host: u.hostname || "127.0.0.1", port: Number(u.port || defaultPort) };
}

function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Resolve whether the suite for `name` should run. Prints one line and returns false when it should be skipped;
 * throws under CI=true, where an unreachable server is a failure.
 */
export async function serverReachable(name: string, url: string, defaultPort: number): Promise<boolean> {
  const { host, port } = hostPort(url, defaultPort);
  if (await canConnect(host, port)) return true;
  const why = `${name} is not reachable at ${host}:${port}`;
  if (process.env.CI === "true") throw new Error(`${why} (CI=true: store suites never skip)`);
  console.warn(`SKIPPED ${name} suite: ${why} (set the URL variable or start the server)`);
  return false;
}

export const redisReachable = (): Promise<boolean> => serverReachable("Redis", REDIS_URL, 6379);
export const postgresReachable = (): Promise<boolean> => serverReachable("PostgreSQL", DATABASE_URL, 5432);
export const memcachedReachable = (): Promise<boolean> => serverReachable("Memcached", MEMCACHED_URL, 11211);

/** A per-run unique suffix so concurrent runs (and test files) never see each other's keys, tables or schemas. */
export function uniqueSuffix(): string {
  return `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released): a server that is down. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
