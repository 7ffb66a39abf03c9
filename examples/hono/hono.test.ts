import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll } from "vitest";
// @ts-expect-error -- plain JavaScript example without type declarations
import { app } from "./app.js";
import { describeSeedFlow } from "../seed-flow.js";

let server: Server;
let base = "";
beforeAll(async () => {
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describeSeedFlow("the seed's routes on Hono (@hono/node-server) with cloakroom/hono", () => base);
