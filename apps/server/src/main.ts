/**
 * Start the server: validate the configuration, open the backends, listen, print the URL, and shut down cleanly on
 * SIGINT/SIGTERM. `npm start` runs this file through tsx.
 */
import type { Server } from "node:http";
import { dummyVerify } from "cloakroom/auth";
import { createApp } from "./app.js";
import { openBackends } from "./backends.js";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { outboxDir } from "./mail/mailer.js";
import { PASSKEYS_UNAVAILABLE, relyingPartyOf } from "./passkeys/relying-party.js";
import { resolveSessionSecrets } from "./secrets.js";

/** Start everything; resolves once listening. Exits the process with status 1 on a configuration error. */
export async function startServer(env: Record<string, string | undefined> = process.env): Promise<Server> {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    console.error(loaded.message);
    process.exit(1);
  }
  const config = loaded.config;
  const logger = createLogger({ level: config.logLevel });
  const secrets = resolveSessionSecrets(config);
  if (!secrets.ok) {
    console.error(secrets.message);
    process.exit(1);
  }
  if (secrets.generated) {
    logger.warn({ file: secrets.file }, "SESSION_SECRETS is not set: generated a development secret and saved it in the data folder. Set SESSION_SECRETS in production.");
  } else if (secrets.source === "file") {
    logger.warn({ file: secrets.file }, "SESSION_SECRETS is not set: using the development secret from the data folder.");
  }
  if (config.session.store === "memory") logger.warn("SESSION_STORE=memory: sessions live in this process only and vanish on restart.");

  const backends = await openBackends(config);
  // Build the dummy hash now so the first unknown-email login costs the same as the others.
  await dummyVerify("");
  const { app, mailer, background } = createApp({ config, secrets: secrets.secrets, ...backends, logger });
  if (!relyingPartyOf(config.publicUrl)) logger.warn({ publicUrl: config.publicUrl }, PASSKEYS_UNAVAILABLE);
  if (mailer.transport === "outbox") logger.warn({ dir: outboxDir(config.dataDir) }, "SMTP_URL is not set: mail goes to the development outbox folder.");

  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host === "0.0.0.0" ? "localhost" : host}:${port}`;
  logger.info({ url, sessionStore: config.session.store, users: config.databaseUrl ? "postgres" : "sqlite", dataDir: config.dataDir }, "listening");
  console.log(`Cloakroom is running at ${url}/ (sessions: ${config.session.store}, users: ${config.databaseUrl ? "PostgreSQL" : "SQLite"})`);
  if (config.publicUrl !== url) console.log(`Mail links and passkeys use ${config.publicUrl}/ (PUBLIC_URL)`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      // Mail of the last requests first, then the databases it reads.
      void background.drain().then(() => mailer.close()).then(() => backends.close()).finally(() => {
        logger.flush();
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  return server;
}

startServer().catch((error: unknown) => {
  console.error(`Cloakroom failed to start: ${error instanceof Error ? error.message : String(error)}${error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ""}`);
  process.exit(1);
});
