// Run the Fastify example: `node examples/fastify/server.js`, then the seed's curl flow (JSON bodies) against it.
import { buildApp } from "./app.js";

const app = await buildApp();
const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: "127.0.0.1" });
console.log(`fastify example on http://127.0.0.1:${port}`);
