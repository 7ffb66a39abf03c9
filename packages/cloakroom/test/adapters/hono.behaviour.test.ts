/** The shared adapter behaviour suite (behaviour.ts) on cloakroom/hono, against every real store. */
import { describeAdapterBehaviour } from "./behaviour.js";

await describeAdapterBehaviour("hono");
