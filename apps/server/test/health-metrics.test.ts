import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, registerViaApi, startTestServer, type TestServer } from "./helpers.js";

describe("operational routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("/healthz and /readyz answer without creating a session", async () => {
    const health = await request(server.app).get("/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await request(server.app).get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ready");
    expect(health.headers["set-cookie"]).toBeUndefined();
  });

  it("/metrics exposes logins, revocations, store latency and active sessions", async () => {
    await registerViaApi(server.app, "m@example.com");
    await api(request(server.app), "post", "/api/login", { email: "m@example.com", password: GOOD_PASSWORD });
    await api(request(server.app), "post", "/api/login", { email: "m@example.com", password: "wrong wrong wrong wrong" });
    const res = await request(server.app).get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/plain/);
    expect(res.text).toMatch(/cloakroom_logins_total\{result="success"\} 1/);
    expect(res.text).toMatch(/cloakroom_logins_total\{result="failure"\} 1/);
    expect(res.text).toMatch(/cloakroom_session_store_duration_seconds_count\{operation="create",outcome="ok"\} \d+/);
    expect(res.text).toMatch(/cloakroom_active_sessions 2/);
  });

  it("security headers: helmet, no-store on dynamic pages, cacheable stylesheet", async () => {
    const page = await request(server.app).get("/login").set("Accept", "text/html");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["x-powered-by"]).toBeUndefined();
    const css = await request(server.app).get("/assets/app.css");
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/text\/css/);
  });

  it("unknown pages are 404 in the client's format", async () => {
    expect((await request(server.app).get("/nope").set("Accept", "text/html")).text).toContain("Page not found");
    expect((await request(server.app).get("/nope")).status).toBe(404);
  });
});
