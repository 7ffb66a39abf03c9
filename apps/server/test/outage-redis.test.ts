/**
 * Redis killed under load (a private redis-server with AOF, `appendfsync always`), then started again: 503 while it is
 * down, no crash, recovery without restarting the app, and every acknowledged session still there. And the control:
 * without persistence a restart loses every session (they read as signed out, not as an error).
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InstanceProcess } from "../src/cluster/instances.js";
import { api, loginViaApi, registerViaApi, startTestServer } from "./helpers.js";
import { instanceEnv, login, register, tempDir, uniqueEmail } from "./multi-helpers.js";
import { expectSurvived, runOutage, startInstances, summarize } from "./outage-scenario.js";
import { binaryAvailable, findRedisServer, startRedisServer, type OwnedServer } from "./outage-servers.js";

const available = binaryAvailable("redis-server", findRedisServer());
/** Short, so the test can watch the bound on an invalidation nobody published. */
const CACHE_TTL_MS = 1000;

describe.runIf(available)("Redis stopped under load (AOF, appendfsync always)", () => {
  const data = tempDir("cloakroom-outage-redis-app-");
  let redis: OwnedServer;
  let instances: InstanceProcess[] = [];
  beforeAll(async () => {
    redis = await startRedisServer({ appendonly: true });
    const env = instanceEnv({ SESSION_STORE: "redis", REDIS_URL: redis.url, DATA_DIR: data.dir, SESSION_CACHE_TTL: `${CACHE_TTL_MS}ms` });
    instances = await startInstances([{ ...env, SESSION_CACHE: "on" }, { ...env, SESSION_CACHE: "on" }, { ...env, SESSION_CACHE: "off" }]);
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await redis?.cleanup();
    data.remove();
  });

  it("answers 503 on session routes while Redis is down, recovers by itself, and loses no session", { timeout: 45_000 }, async () => {
    const [a, b] = instances.map((i) => i.url) as [string, string];
    const email = uniqueEmail("outage-redis");
    const sessions = [await register(a, email)];
    for (let i = 0; i < 5; i++) sessions.push(await login(i % 2 === 0 ? a : b, email));
    const options = { label: "redis", server: redis, instances, email, sessions, cacheTtlMs: CACHE_TTL_MS };
    const report = await runOutage(options);
    console.log(`[redis outage] recovered ${Math.round(report.recoveryMs)} ms after the restart; ${summarize(report.samples)}`);
    await expectSurvived(report, options);
  });
});

describe.runIf(available)("Redis without persistence, restarted", () => {
  let redis: OwnedServer;
  beforeAll(async () => {
    redis = await startRedisServer({ appendonly: false });
  });
  afterAll(() => redis?.cleanup());

  it("loses every session: they read as signed out after the restart (why production needs AOF)", { timeout: 20_000 }, async () => {
    const server = await startTestServer({ env: { SESSION_STORE: "redis", REDIS_URL: redis.url } });
    try {
      await registerViaApi(server.app, "volatile@example.com");
      const agent = await loginViaApi(server.app, "volatile@example.com");
      expect((await api(agent, "get", "/api/me")).status).toBe(200);
      await redis.kill();
      await redis.restart();
      let status = 503;
      for (let i = 0; i < 100 && status === 503; i++) {
        status = (await api(agent, "get", "/api/me")).status;
        if (status === 503) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(401);
      expect((await request(server.app).get("/healthz")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
