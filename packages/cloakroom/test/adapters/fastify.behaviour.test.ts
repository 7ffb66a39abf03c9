/** The shared adapter behaviour suite (behaviour.ts) on cloakroom/fastify, against every real store. */
import { describeAdapterBehaviour } from "./behaviour.js";

await describeAdapterBehaviour("fastify");
