/**
 * The ioredis majors the Redis suites run against, one entry each: the package's peer range is `ioredis >= 5`, and
 * the majors differ where a store meets its client (ioredis 6 decodes replies itself and defines a String subclass;
 * ioredis 5 parses them with redis-parser). A suite loops over this list (`describe.each(redisClients)`) rather than
 * being copied per major.
 */
import { Cluster as Cluster6, Redis as Redis6 } from "ioredis";
import { Cluster as Cluster5, Redis as Redis5 } from "ioredis5";

/** One ioredis major: its constructors and the package name it is installed under. */
export interface RedisClient {
  major: 5 | 6;
  /** What `import()` loads it by (`ioredis5` is an npm alias), for tests that start a fresh process. */
  module: "ioredis" | "ioredis5";
  Redis: typeof Redis6;
  Cluster: typeof Cluster6;
}

export const redisClients: readonly RedisClient[] = [
  { major: 6, module: "ioredis", Redis: Redis6, Cluster: Cluster6 },
  // Typed as ioredis 6's classes, which the library's types resolve `ioredis` to in this repository (an application's
  // resolve to the major it installed); the sources are type-checked against ioredis 5 by tsconfig.ioredis5.json.
  { major: 5, module: "ioredis5", Redis: Redis5 as unknown as typeof Redis6, Cluster: Cluster5 as unknown as typeof Cluster6 },
];
