/**
 * fast-strings.ts, in fresh processes (V8 flips String.prototype to dictionary mode once per process, and a test
 * runner's own code may already have made it fast again): loading ioredis leaves String.prototype's properties in
 * dictionary mode, and constructing a RedisStore or a RedisInvalidationChannel gives them back their fast form.
 * V8 internals on purpose (%HasFastProperties): the effect is a representation, and a bench is not a test.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Run `body` as an ES module in a new Node process (TypeScript imports through tsx); returns its printed lines. */
function inFreshProcess(body: string): string[] {
  const script = [
    `const fast = () => String(new Function("return %HasFastProperties(String.prototype)")());`,
    `const { Redis } = await import("ioredis");`,
    `const { RedisStore } = await import(${JSON.stringify(here("./redis.ts"))});`,
    `const { RedisInvalidationChannel } = await import(${JSON.stringify(here("./cached-redis.ts"))});`,
    `const { restoreFastStringMethods } = await import(${JSON.stringify(here("./fast-strings.ts"))});`,
    body,
  ].join("\n");
  const out = execFileSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  return out.trim().split("\n");
}

describe("String.prototype's fast properties after ioredis is loaded", () => {
  it("loading ioredis slows them (a String subclass); constructing a RedisStore restores them", () => {
    const lines = inFreshProcess(`
      console.log(fast());
      const client = new Redis({ lazyConnect: true });
      new RedisStore({ client });
      console.log(fast());
      class Another extends String {}
      console.log(fast(), typeof Another, "abc".slice(1));
      client.disconnect();`);
    expect(lines).toEqual(["false", "true", "true function bc"]);
  });

  it("constructing a RedisInvalidationChannel restores them too", () => {
    const lines = inFreshProcess(`
      console.log(fast());
      const client = new Redis({ lazyConnect: true });
      new RedisInvalidationChannel({ client });
      console.log(fast());
      client.disconnect();`);
    expect(lines).toEqual(["false", "true"]);
  });

  it("restoreFastStringMethods changes nothing observable", () => {
    const lines = inFreshProcess(`
      const before = Object.getOwnPropertyNames(String.prototype).join();
      restoreFastStringMethods();
      console.log(fast(), Object.getOwnPropertyNames(String.prototype).join() === before, "a-b".split("-").length);`);
    expect(lines).toEqual(["true true 2"]);
  });
});
