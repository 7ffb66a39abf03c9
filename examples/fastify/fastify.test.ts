import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
// @ts-expect-error -- plain JavaScript example without type declarations
import { buildApp } from "./app.js";
import { describeSeedFlow } from "../seed-flow.js";

let app: { listen(o: object): Promise<string>; close(): Promise<void>; server: { address(): AddressInfo } };
let base = "";
beforeAll(async () => {
  app = await buildApp();
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${app.server.address().port}`;
});
afterAll(() => app.close());

describeSeedFlow("the seed's routes on Fastify with cloakroom/fastify", () => base);
