/** The shared adapter behaviour suite (behaviour.ts) on cloakroom/express, against every real store. */
import { describeAdapterBehaviour } from "./behaviour.js";

await describeAdapterBehaviour("express");
