// Run the Hono example on Node: `node examples/hono/server.js`, then the seed's curl flow (JSON bodies) against it.
import { serve } from "@hono/node-server";
import { app } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => console.log(`hono example on http://127.0.0.1:${port}`));
