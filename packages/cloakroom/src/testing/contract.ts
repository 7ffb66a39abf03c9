/**
 * The SessionStore contract suite: one vitest suite that every backend (built-in or third-party) runs, so "it is a
 * SessionStore" means the same thing for memory, SQLite, Redis, PostgreSQL and Memcached.
 *
 * It checks the rules written on {@link SessionStore} in `core/types.ts`: exact round trips, per-key atomic patches,
 * no resurrection by a racing patch, expiry enforced on read before any sweep, keys that are opaque strings, data keys
 * that are plain strings (`__proto__` too), and the per-user index. One module per behaviour group (contract-*.ts).
 * Tests that need a capability the store does not declare go through one gate, `itWhen` (see contract-context.ts):
 * registered as skipped when declared capabilities rule them out, skipped at run time with a note otherwise
 * (capabilities are only known once a store is open, and opening one at collection time would hit servers that the
 * calling file may have decided to skip).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SessionStore } from "../core/types.js";
import { describeConcurrency } from "./contract-concurrency.js";
import { createContractSuite, type StoreContractFactory } from "./contract-context.js";
import { describeExpiry } from "./contract-expiry.js";
import { describeHostileInput } from "./contract-hostile-input.js";
import { describeLifecycle } from "./contract-lifecycle.js";
import { describePatch } from "./contract-patch.js";
import { describePerUserIndex } from "./contract-per-user-index.js";

export type { StoreContractFactory } from "./contract-context.js";

/**
 * Register the SessionStore contract suite for one backend.
 *
 * Every test opens stores through `factory` on a namespace of its own, with a fake clock that starts at `Date.now()`
 * and only moves forward; afterEach clears and closes every store the test opened.
 *
 * @param name the store's name, used as the suite title (e.g. `"RedisStore"`)
 * @param factory opens a handle onto a namespace (two calls with one namespace = two handles onto the same data)
 * @example
 * import { runStoreContract } from "cloakroom/testing";
 * import { MyStore } from "../src/my-store.js";
 *
 * runStoreContract("MyStore", {
 *   create: ({ namespace, now }) => new MyStore({ prefix: `${namespace}:`, now }),
 * });
 */
export function runStoreContract(name: string, factory: StoreContractFactory): void {
  describe(`${name} — SessionStore contract`, () => {
    const suite = createContractSuite(name, factory);
    beforeEach(() => suite.reset());
    afterEach(() => suite.cleanUp());

    const declared = factory.capabilities;
    if (declared) {
      it("reports the declared capabilities", async () => {
        const store: SessionStore = await suite.ctx.open();
        expect(store.capabilities).toEqual(declared);
      });
    }
    describeLifecycle(suite);
    describePatch(suite);
    describeExpiry(suite);
    describeConcurrency(suite);
    describePerUserIndex(suite);
    describeHostileInput(suite);
  });
}
