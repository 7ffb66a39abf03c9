/**
 * `cloakroom/testing`: the SessionStore contract suite, for the built-in stores and for third-party ones.
 * Needs vitest in the calling project (it registers a real vitest suite).
 *
 * @example
 * import { runStoreContract } from "cloakroom/testing";
 * runStoreContract("MyStore", { create: ({ namespace, now }) => new MyStore({ prefix: `${namespace}:`, now }) });
 */
export { runStoreContract } from "./contract.js";
export type { StoreContractFactory } from "./contract.js";
