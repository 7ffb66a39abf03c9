/**
 * fast-strings.ts, in fresh processes (V8 flips String.prototype to dictionary mode once per process, and a test
 * runner's own code may already have made it fast again), once per ioredis major: loading ioredis 6 leaves
 * String.prototype's properties in dictionary mode (its `class VerbatimString extends String`), loading ioredis 5
 * leaves them fast (it has no String subclass), and constructing a RedisStore or a RedisInvalidationChannel leaves
 * them fast with either. V8 internals on purpose (%HasFastProperties): the effect is a representation, and a bench is
 * not a test.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { redisClients, type RedisClient } from "../../test/redis-clients.js";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/**
 * Run `body` as an ES module in a new Node process (TypeScript imports through tsx) in which `Redis` is the client
 * class of `module`; returns its printed lines.
 */
function inFreshProcess(module: RedisClient["module"], body: string): string[] {
  const script = [
    `const fast = () => String(new Function("return %HasFastProperties(String.prototype)")());`,
    `const { Redis } = await import(${JSON.stringify(module)});`,
    `const { RedisStore } = await import(${JSON.stringify(here("./redis.ts"))});`,
    `const { RedisInvalidationChannel } = await import(${JSON.stringify(here("./cached-redis.ts"))});`,
    `const { restoreFastStringMethods } = await import(${JSON.stringify(here("./fast-strings.ts"))});`,
    body,
  ].join("\n");
  const out = execFileSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  return out.trim().split("\n");
}

/** What loading each major does to String.prototype's fast properties (measured by these tests), and why. */
const onLoad: Record<RedisClient["major"], { fast: boolean; says: string }> = {
  6: { fast: false, says: "slows them (a String subclass)" },
  5: { fast: true, says: "leaves them fast (no String subclass)" },
};

describe.each(redisClients)("String.prototype's fast properties after ioredis $major is loaded", ({ major, module }) => {
  const loaded = onLoad[major];

  it(`loading ioredis ${major} ${loaded.says}; after constructing a RedisStore they are fast`, () => {
    const lines = inFreshProcess(
      module,
      `
      console.log(fast());
      const client = new Redis({ lazyConnect: true });
      new RedisStore({ client });
      console.log(fast());
      class Another extends String {}
      console.log(fast(), typeof Another, "abc".slice(1));
      client.disconnect();`,
    );
    expect(lines).toEqual([String(loaded.fast), "true", "true function bc"]);
  });

  it(`loading ioredis ${major} ${loaded.says}; after constructing a RedisInvalidationChannel they are fast`, () => {
    const lines = inFreshProcess(
      module,
      `
      console.log(fast());
      const client = new Redis({ lazyConnect: true });
      new RedisInvalidationChannel({ client });
      console.log(fast());
      client.disconnect();`,
    );
    expect(lines).toEqual([String(loaded.fast), "true"]);
  });
});

describe("restoreFastStringMethods", () => {
  it("changes nothing observable", () => {
    const lines = inFreshProcess("ioredis", `
      const before = Object.getOwnPropertyNames(String.prototype).join();
      restoreFastStringMethods();
      console.log(fast(), Object.getOwnPropertyNames(String.prototype).join() === before, "a-b".split("-").length);`);
    expect(lines).toEqual(["true true 2"]);
  });
});
