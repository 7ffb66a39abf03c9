import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, registerViaApi, sessionCookieOf, setCookies, startTestServer, type TestServer } from "./helpers.js";

describe("the seed's routes keep their contract for API clients", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await registerViaApi(server.app, "seed@example.com");
  });
  afterAll(() => server.close());

  it("login → dashboard → logout → dashboard 401, as in the seed (JSON body)", async () => {
    const agent = request.agent(server.app);
    const login = await agent.post("/login").set("Content-Type", "application/json").send(JSON.stringify({ email: "seed@example.com", password: GOOD_PASSWORD }));
    expect(login.status).toBe(200);
    expect(login.text).toBe("Logged in");
    const cookie = sessionCookieOf(login);
    expect(cookie).toMatch(/^sid=s%3A/);

    const dashboard = await agent.get("/dashboard");
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toBe("Protected route");
    expect(dashboard.headers["cache-control"]).toBe("no-store");

    const logout = await agent.post("/logout").set("Content-Type", "application/json").send("{}");
    expect(logout.status).toBe(200);
    expect(logout.text).toBe("Logged out");
    expect(logout.headers["clear-site-data"]).toContain('"cookies"');
    expect(setCookies(logout).some((l) => /^sid=;/.test(l) && /Max-Age=0/i.test(l))).toBe(true);

    const after = await agent.get("/dashboard");
    expect(after.status).toBe(401);
    expect(after.text).toBe("Not authenticated");
    // Replaying the captured cookie: the record is gone on the server.
    const replay = await request(server.app).get("/dashboard").set("Cookie", cookie as string);
    expect(replay.status).toBe(401);
  });

  it("wrong password and unknown email answer 401 Invalid credentials alike", async () => {
    const wrong = await api(request(server.app), "post", "/login", { email: "seed@example.com", password: "not the right password" });
    const unknown = await api(request(server.app), "post", "/login", { email: "nobody@example.com", password: "not the right password" });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.text).toBe("Invalid credentials");
      expect(setCookies(res)).toEqual([]);
    }
  });

  it("a form-encoded POST /login without a CSRF token (a non-browser client) is refused with 403", async () => {
    const res = await request(server.app).post("/login").type("form").send(`email=seed%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}`);
    expect(res.status).toBe(403);
  });

  it("a missing or malformed body is 400, not 401 or 500", async () => {
    const res = await api(request(server.app), "post", "/login", { email: "seed@example.com" });
    expect(res.status).toBe(400);
  });
});
