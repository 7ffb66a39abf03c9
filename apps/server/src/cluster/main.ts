/**
 * `npm run cluster [-- options]`: N instances of the server on one shared store, behind a round-robin front, to try
 * "any instance serves any request" in a browser. Ctrl-C stops everything.
 *
 *   --instances N        how many (default 3)
 *   --port P             the front's port (default 3000); instance i listens on P + i
 *   --store S            redis (default, REDIS_URL or redis://127.0.0.1:6379), postgres (DATABASE_URL), memory
 *   --cache on|off       SESSION_CACHE on every instance (default: SESSION_CACHE, else on; off with memory)
 *   --sticky             pin each browser to one instance by a cookie (required with --store memory)
 */
import { parseArgs } from "node:util";
import { ClusterConfigError, startCluster, type ClusterStore } from "./cluster.js";

const USAGE = "usage: npm run cluster -- [--instances 3] [--port 3000] [--store redis|postgres|memory] [--cache on|off] [--sticky]";

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        instances: { type: "string", default: "3" },
        port: { type: "string", default: "3000" },
        store: { type: "string", default: "redis" },
        cache: { type: "string" },
        sticky: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!["redis", "postgres", "memory"].includes(values.store) || (values.cache !== undefined && !["on", "off"].includes(values.cache))) {
    console.error(USAGE);
    process.exit(2);
  }
  const store = values.store as ClusterStore;
  const cluster = await startCluster({
    instances: Number(values.instances),
    port: Number(values.port),
    store,
    cache: values.cache === undefined ? undefined : values.cache === "on",
    sticky: values.sticky,
    env: { LOG_LEVEL: "warn", ...process.env },
  }).catch((error: unknown) => {
    console.error(error instanceof ClusterConfigError ? `Invalid configuration: ${error.message}` : `Cluster failed to start: ${(error as Error).message}`);
    process.exit(1);
  });

  let stopping = false;
  const users = cluster.env.DATABASE_URL ? "PostgreSQL" : `SQLite in ${cluster.env.DATA_DIR}`;
  console.log(`Cloakroom cluster: ${cluster.instances.length} instances, sessions: ${store}, cache: ${cluster.env.SESSION_CACHE}, users: ${users}`);
  cluster.instances.forEach((instance, i) => {
    console.log(`  instance ${i + 1}  ${instance.url}/  (pid ${instance.child.pid})`);
    instance.child.once("exit", (code, signal) => {
      if (!stopping) console.log(`  instance ${i + 1} exited (${signal ?? code}); the front sends its requests to the others`);
    });
  });
  console.log(`Open ${cluster.url}/ — ${values.sticky ? "sticky (pinned by the cloakroom_instance cookie)" : "round-robin, no stickiness"}; every response names its instance in X-Cloakroom-Instance. Ctrl-C stops all.`);

  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void cluster.stop().finally(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGHUP", shutdown);
}

void main();
