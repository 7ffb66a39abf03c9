import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, registerViaApi, startTestServer, type TestServer } from "./helpers.js";

describe("brute-force limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: "3", LOGIN_MAX_FAILURES_PER_IP: "8", LOGIN_THROTTLE_WINDOW: "2s", TRUST_PROXY: "loopback" } });
    await registerViaApi(server.app, "target@example.com");
    await registerViaApi(server.app, "other@example.com");
  });
  afterAll(() => server.close());

  const attempt = (email: string, password: string, ip: string) =>
    api(request(server.app), "post", "/api/login", { email, password }).set("X-Forwarded-For", ip);

  it("per account, whatever the IP: 429 with Retry-After, and the user recovers after the window", async () => {
    for (let i = 0; i < 3; i++) expect((await attempt("target@example.com", "wrong password number " + i, `198.51.100.${i}`)).status).toBe(401);
    const blocked = await attempt("Target@Example.com", GOOD_PASSWORD, "198.51.100.77");
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe("too_many_attempts");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The same refusal for an unknown account: nothing is revealed.
    await new Promise((r) => setTimeout(r, 2100));
    expect((await attempt("target@example.com", GOOD_PASSWORD, "198.51.100.78")).status).toBe(200);
    const metrics = await request(server.app).get("/metrics");
    expect(metrics.text).toMatch(/cloakroom_login_throttled_total\{scope="login"\} [1-9]/);
  });

  it("per IP, across accounts", async () => {
    const ip = "192.0.2.50";
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await attempt(`nobody${i}@example.com`, "wrong password again", ip)).status);
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses[8]).toBe(429);
    // Another client is unaffected.
    expect((await attempt("other@example.com", GOOD_PASSWORD, "192.0.2.51")).status).toBe(200);
  });
});
