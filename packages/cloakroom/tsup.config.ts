import { defineConfig } from "tsup";

// One entry per public subpath export (see package.json "exports").
export default defineConfig({
  entry: {
    index: "src/index.ts",
    express: "src/adapters/express.ts",
    fastify: "src/adapters/fastify.ts",
    hono: "src/adapters/hono.ts",
    sqlite: "src/stores/sqlite.ts",
    redis: "src/stores/redis.ts",
    postgres: "src/stores/postgres.ts",
    memcached: "src/stores/memcached.ts",
    cached: "src/stores/cached.ts",
    auth: "src/auth/index.ts",
    testing: "src/testing/index.ts",
  },
  format: ["esm", "cjs"],
  tsconfig: "tsconfig.build.json",
  dts: true,
  target: "node20",
  clean: true,
  sourcemap: true,
  splitting: true,
  external: ["better-sqlite3", "ioredis", "pg", "memcache-client", "argon2", "bcryptjs", "rate-limiter-flexible", "vitest", "fastify", "fastify-plugin", /^hono(\/|$)/],
});
