import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string): string => fileURLToPath(new URL(`./packages/cloakroom/src/${p}`, import.meta.url));

// Tests import the library from its TypeScript source; test/dist.test.ts checks the built package separately.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^cloakroom$/, replacement: src("index.ts") },
      { find: /^cloakroom\/(express|fastify|hono)$/, replacement: src("adapters/$1.ts") },
      { find: /^cloakroom\/(sqlite|redis|postgres|memcached|cached)$/, replacement: src("stores/$1.ts") },
      { find: /^cloakroom\/auth$/, replacement: src("auth/index.ts") },
      { find: /^cloakroom\/testing$/, replacement: src("testing/index.ts") },
    ],
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "examples/**/*.test.ts", "bench/lib/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    coverage: {
      provider: "v8",
      include: ["packages/cloakroom/src/core/**/*.ts"],
      exclude: ["**/*.test.ts"],
      reporter: ["text-summary", "text"],
      // The coverage gate on the engine (STYLE.md: "a coverage gate on core/").
      thresholds: { lines: 95, statements: 95, functions: 95, branches: 85 },
    },
  },
});
