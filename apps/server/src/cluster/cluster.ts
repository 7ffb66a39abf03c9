/**
 * Several instances of the server on one shared session store, behind the round-robin front: what `npm run cluster`
 * starts, and what the multi-instance tests drive.
 *
 * Users are shared too: in PostgreSQL when DATABASE_URL is set, otherwise in the one SQLite file of DATA_DIR, which
 * every instance opens (WAL mode, busy timeout) — fine on one machine, never on a network file system.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../config.js";
import { resolveSessionSecrets } from "../secrets.js";
import { createFront } from "./front.js";
import { startInstance, type InstanceProcess } from "./instances.js";

/** Session stores the cluster can run on. */
export type ClusterStore = "redis" | "postgres" | "memory";

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** @default 3 */
  instances?: number;
  /** The front's port; instance i listens on port + i. `0`: any free ports. @default 3000 */
  port?: number;
  /** @default "redis" */
  store?: ClusterStore;
  /** SESSION_CACHE for every instance. @default SESSION_CACHE from `env`, else on (off with the memory store) */
  cache?: boolean;
  /** Pin each browser to one instance (required with the memory store). @default false */
  sticky?: boolean;
  /**
   * The environment the instances start from: REDIS_URL, DATABASE_URL, DATA_DIR, SESSION_SECRETS, LOG_LEVEL… The
   * cluster sets HOST, PORT, SESSION_STORE, SESSION_CACHE and TRUST_PROXY=loopback itself.
   */
  env: Record<string, string | undefined>;
}

/** A running cluster. */
export interface Cluster {
  /** The front: `http://127.0.0.1:<port>`. */
  url: string;
  front: http.Server;
  instances: InstanceProcess[];
  /** The environment every instance got (add PORT to start one more like them). */
  env: Record<string, string>;
  /** Close the front and stop every instance (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** A mistake in the cluster's options or environment: one line (without "Invalid configuration: ") for the operator. */
export class ClusterConfigError extends Error {
  override readonly name = "ClusterConfigError";
}

const HOST = "127.0.0.1";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * Resolve the instances' environment, start them in parallel, then the front.
 * @throws {ClusterConfigError} for a bad combination or variable; {@link Error} when an instance does not start
 * (every process started so far is stopped first)
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 3;
  const port = options.port ?? 3000;
  const store = options.store ?? "redis";
  const sticky = options.sticky ?? false;
  const cache = options.cache ?? (options.env.SESSION_CACHE ? options.env.SESSION_CACHE === "on" : store !== "memory");
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new ClusterConfigError("--instances must be a whole number from 1 to 16");
  if (!Number.isInteger(port) || port < 0 || port + count > 65535) throw new ClusterConfigError("--port must leave room for the instances' ports after it");
  if (store === "memory" && !sticky) {
    throw new ClusterConfigError("--store memory needs --sticky: each instance keeps its own sessions, so a browser must stay on one");
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = value;
  Object.assign(env, {
    HOST,
    PORT: "0",
    SESSION_STORE: store,
    SESSION_CACHE: cache ? "on" : "off",
    // The instances believe X-Forwarded-For/Proto from the front on loopback, and from nobody else.
    TRUST_PROXY: "loopback",
  });
  if (store === "redis") env.REDIS_URL ??= DEFAULT_REDIS_URL;
  // Mail links and passkeys name the front, not the instance that happened to serve the request.
  if (port !== 0) env.PUBLIC_URL ??= `http://localhost:${port}`;

  // Validate once here, and settle the secret once: instances racing to generate a development secret in the same
  // DATA_DIR could each sign with a different one, and a cookie from one would be rejected by the next.
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new ClusterConfigError(loaded.message.replace(/^Invalid configuration: /, ""));
  const secrets = resolveSessionSecrets(loaded.config);
  if (!secrets.ok) throw new ClusterConfigError(secrets.message.replace(/^Invalid configuration: /, ""));
  env.SESSION_SECRETS = secrets.secrets.join(",");
  env.DATA_DIR = loaded.config.dataDir;

  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startInstance({ env: { ...env, PORT: String(port === 0 ? 0 : port + i + 1) } })),
  );
  const instances = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    throw new Error(`an instance did not start: ${(failed.reason as Error).message}`);
  }

  const front = createFront({ upstreams: instances.map((i) => i.url), sticky });
  try {
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, HOST, resolve);
    });
  } catch (error) {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    throw error;
  }
  const url = `http://${HOST}:${(front.address() as AddressInfo).port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await Promise.all(
        instances.map(async (instance) => {
          const force = setTimeout(() => void instance.stop("SIGKILL"), 5_000);
          await instance.stop("SIGTERM");
          clearTimeout(force);
        }),
      );
    })());
  return { url, front, instances, env, stop };
}
