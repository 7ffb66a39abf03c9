/** Walking every key under a pattern on each master of an ioredis Redis or Cluster (RedisStore's clear and count). */
import type { Cluster, Redis } from "ioredis";

/** Keys per SCAN page (both client libraries' scans). */
export const SCAN_PAGE = 256;

/** SCAN MATCH is a glob: escape the prefix so `*`, `?`, `[` or `\` in it match literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

async function masters(client: Redis | Cluster): Promise<Redis[]> {
  if (!client.isCluster) return [client as Redis];
  const cluster = client as Cluster;
  // The node list is filled by the first slots refresh; a PING waits for the cluster to be ready.
  await cluster.ping();
  return cluster.nodes("master");
}

/** Call `onPage` with each page of keys matching `pattern`, master by master. */
export async function scanEachMaster(
  client: Redis | Cluster,
  pattern: string,
  onPage: (node: Redis, keys: string[]) => Promise<void>,
): Promise<void> {
  for (const node of await masters(client)) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_PAGE);
      cursor = next;
      if (keys.length > 0) await onPage(node, keys);
    } while (cursor !== "0");
  }
}

/** Throw the first error of a pipeline's replies. */
export function throwPipelineError(results: Array<[Error | null, unknown]> | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
