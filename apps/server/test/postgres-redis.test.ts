import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, REDIS_URL, postgresReachable, redisReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";
import { GOOD_PASSWORD, api, loginViaApi, registerViaApi, sessionCookieOf, startTestServer, type TestServer } from "./helpers.js";

const reachable = (await postgresReachable()) && (await redisReachable());
const suffix = uniqueSuffix().toLowerCase();

describe.runIf(reachable)("PostgreSQL users + Redis sessions (two app instances sharing them)", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const env = { DATABASE_URL, SESSION_STORE: "redis", REDIS_URL };
    const overrides = { usersTable: `users_${suffix}`, keyPrefix: `test:${suffix}:` };
    a = await startTestServer({ env, overrides });
    b = await startTestServer({ env, overrides });
  });
  afterAll(async () => {
    await a.backends.store.clear();
    const pg = await import("pg");
    const pool = new pg.default.Pool({ connectionString: DATABASE_URL });
    await pool.query(`DROP TABLE IF EXISTS users_${suffix}`);
    await pool.end();
    await a.close();
    await b.close();
  });

  it("a session made on one instance works on the other; logout on one ends it on both", async () => {
    await registerViaApi(a.app, "shared@example.com");
    const login = await api(request(a.app), "post", "/api/login", { email: "Shared@Example.com", password: GOOD_PASSWORD });
    const cookie = sessionCookieOf(login) as string;
    expect((await request(b.app).get("/dashboard").set("Cookie", cookie)).text).toBe("Protected route");
    await request(b.app).post("/logout").set("Cookie", cookie).set("Content-Type", "application/json").send("{}").expect(200);
    expect((await request(a.app).get("/dashboard").set("Cookie", cookie)).status).toBe(401);
  });

  it("device list, log out everywhere else and password change across instances", async () => {
    const one = await loginViaApi(a.app, "shared@example.com");
    const two = await loginViaApi(b.app, "shared@example.com");
    const list = await api(one, "get", "/api/sessions");
    expect(list.body.sessions.length).toBe(3); // plus the one registration opened
    expect((await api(one, "post", "/api/logout-others", {})).status).toBe(200);
    expect((await api(two, "get", "/api/me")).status).toBe(401);
    expect((await api(one, "get", "/api/sessions")).body.sessions.length).toBe(1);
    const three = await loginViaApi(b.app, "shared@example.com");
    expect((await api(one, "post", "/api/password", { currentPassword: GOOD_PASSWORD, newPassword: "amber falcon river glass" })).status).toBe(200);
    expect((await api(three, "get", "/api/me")).status).toBe(401);
    await loginViaApi(b.app, "shared@example.com", "amber falcon river glass");
  });

  it("brute-force counters are shared through Redis", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const app = i % 2 === 0 ? a.app : b.app;
      statuses.push((await api(request(app), "post", "/api/login", { email: "brute@example.com", password: `guess number ${i} here` })).status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("/readyz checks both", async () => {
    expect((await request(a.app).get("/readyz")).body).toMatchObject({ status: "ready", store: "redis" });
  });
});
