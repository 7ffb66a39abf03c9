import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, loginViaApi, registerViaApi, startTestServer, type TestServer } from "./helpers.js";

describe("CSRF defences", () => {
  let server: TestServer;
  let agent: request.Agent;
  beforeAll(async () => {
    server = await startTestServer();
    await registerViaApi(server.app, "csrf@example.com");
    agent = await loginViaApi(server.app, "csrf@example.com");
  });
  afterAll(() => server.close());

  const jsonLogout = (headers: Record<string, string>) => {
    const req = agent.post("/api/logout-others").set("Content-Type", "application/json");
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    return req.send("{}");
  };

  it.each([
    ["Origin: https://evil.example", { Origin: "https://evil.example" }],
    ["a look-alike suffix origin", { Origin: "http://127.0.0.1.evil.com" }],
    ["Origin: null", { Origin: "null" }],
    ["Sec-Fetch-Site: cross-site", { "Sec-Fetch-Site": "cross-site" }],
    ["a cross-site Referer only", { Referer: "https://evil.example/page" }],
  ])("refuses a JSON request with %s (403 csrf_failed)", async (_name, headers) => {
    const res = await jsonLogout(headers);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe("csrf_failed");
  });

  it("accepts a JSON request with its own origin (Host-derived) or no browser headers at all (curl)", async () => {
    const own = await agent.post("/api/logout-others").set("Host", "auth.test").set("Origin", "http://auth.test").set("Content-Type", "application/json").send("{}");
    expect(own.status).toBe(200);
    const curl = await jsonLogout({});
    expect(curl.status).toBe(200);
  });

  it("refuses a cross-site login form post (login CSRF)", async () => {
    const res = await request(server.app).post("/login").set("Origin", "https://evil.example").type("form").send(`email=csrf%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}`);
    expect(res.status).toBe(403);
  });

  it("refuses a same-origin form post whose token is wrong", async () => {
    const res = await agent.post("/logout").set("Sec-Fetch-Site", "same-origin").set("Accept", "text/html").type("form").send("_csrf=forged");
    expect(res.status).toBe(403);
    expect((await api(agent, "get", "/api/me")).status).toBe(200);
  });

  it("refuses a text/plain POST without any origin header (a simple request)", async () => {
    const res = await agent.post("/logout").set("Content-Type", "text/plain").send("x");
    expect(res.status).toBe(403);
  });

  it("honours ALLOWED_ORIGINS", async () => {
    const other = await startTestServer({ env: { ALLOWED_ORIGINS: "https://app.example.org" } });
    try {
      await registerViaApi(other.app, "o@example.com");
      const ok = await request(other.app).post("/api/login").set("Origin", "https://app.example.org").set("Content-Type", "application/json").send(JSON.stringify({ email: "o@example.com", password: GOOD_PASSWORD }));
      expect(ok.status).toBe(200);
      const port = await request(other.app).post("/api/login").set("Origin", "https://app.example.org:8443").set("Content-Type", "application/json").send(JSON.stringify({ email: "o@example.com", password: GOOD_PASSWORD }));
      expect(port.status).toBe(403);
    } finally {
      await other.close();
    }
  });
});
