/**
 * PostgreSQL (users and sessions) stopped under load — a private cluster, stopped with an immediate shutdown (every
 * backend killed, no checkpoint: the restart replays the WAL) — then started again: 503 while it is down, no crash,
 * recovery without restarting the app, and every committed session still there.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import type { InstanceProcess } from "../src/cluster/instances.js";
import { instanceEnv, login, register, tempDir, uniqueEmail } from "./multi-helpers.js";
import { expectSurvived, runOutage, startInstances, summarize } from "./outage-scenario.js";
import { binaryAvailable, findPostgresBin, startPostgresServer, type OwnedServer } from "./outage-servers.js";

const available = binaryAvailable("PostgreSQL (initdb, postgres)", findPostgresBin());
/** Short, so the test can watch the bound on an invalidation nobody published. */
const CACHE_TTL_MS = 1000;

describe.runIf(available)("PostgreSQL stopped under load (immediate shutdown, WAL recovery)", () => {
  const data = tempDir("cloakroom-outage-pg-app-");
  let postgres: OwnedServer;
  let instances: InstanceProcess[] = [];
  beforeAll(async () => {
    postgres = await startPostgresServer();
    const env = instanceEnv({ SESSION_STORE: "postgres", DATABASE_URL: postgres.url, DATA_DIR: data.dir, SESSION_CACHE_TTL: `${CACHE_TTL_MS}ms` });
    instances = await startInstances([{ ...env, SESSION_CACHE: "on" }, { ...env, SESSION_CACHE: "on" }, { ...env, SESSION_CACHE: "off" }]);
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await postgres?.cleanup();
    data.remove();
  });

  it("answers 503 on session routes while PostgreSQL is down, recovers by itself, and loses no session", { timeout: 45_000 }, async () => {
    const [a, b] = instances.map((i) => i.url) as [string, string];
    const email = uniqueEmail("outage-pg");
    const sessions = [await register(a, email)];
    for (let i = 0; i < 5; i++) sessions.push(await login(i % 2 === 0 ? a : b, email));
    const options = { label: "postgres", server: postgres, instances, email, sessions, cacheTtlMs: CACHE_TTL_MS };
    const report = await runOutage(options);
    console.log(`[postgres outage] recovered ${Math.round(report.recoveryMs)} ms after the restart; ${summarize(report.samples)}`);
    await expectSurvived(report, options);
  });
});
