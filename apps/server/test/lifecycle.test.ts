import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStore } from "cloakroom";
import { createApp } from "../src/app.js";
import { createLogger } from "../src/logger.js";
import { GOOD_PASSWORD, TEST_SECRET, api, loginViaApi, registerViaApi, sessionCookieOf, startTestServer, type TestServer } from "./helpers.js";

describe("session lifecycle", () => {
  let server: TestServer;
  let clock = Date.now();
  beforeAll(async () => {
    server = await startTestServer({ now: () => clock });
  });
  afterAll(() => server.close());

  it("idle timeout: alive at idle−1 s (and slid), dead at idle+1 s; remember-me uses its own window", async () => {
    await registerViaApi(server.app, "idle@example.com");
    const plain = await loginViaApi(server.app, "idle@example.com");
    const remembered = request.agent(server.app);
    await api(remembered, "post", "/api/login", { email: "idle@example.com", password: GOOD_PASSWORD, remember: true }).expect(200);
    const idle = server.config.idleTimeout;
    clock += idle - 1000;
    expect((await api(plain, "get", "/api/me")).status).toBe(200);
    clock += idle + 1000;
    expect((await api(plain, "get", "/api/me")).status).toBe(401);
    expect((await api(remembered, "get", "/api/me")).status).toBe(200);
    clock += server.config.absoluteTimeout;
    expect((await api(remembered, "get", "/api/me")).status).toBe(401);
  });

  it("disabling a user ends all of their sessions (even without the CLI's revocation)", async () => {
    await registerViaApi(server.app, "disable@example.com");
    const a = await loginViaApi(server.app, "disable@example.com");
    const b = await loginViaApi(server.app, "disable@example.com");
    const user = await server.backends.users.findUserByEmail("disable@example.com");
    await server.backends.users.setUserDisabled(user!.id, true);
    expect((await api(a, "get", "/api/me")).status).toBe(401);
    expect((await api(b, "get", "/dashboard")).status).toBe(401);
    expect((await api(request(server.app), "post", "/api/login", { email: "disable@example.com", password: GOOD_PASSWORD })).status).toBe(401);
  });

  it("revoking sessions needs a recent password: 403 reauthentication_required, then POST /api/reauth rotates and allows", async () => {
    await registerViaApi(server.app, "reauth@example.com");
    const a = await loginViaApi(server.app, "reauth@example.com");
    clock += server.config.reauthWindow + 1000;
    await api(a, "get", "/api/me").expect(200);
    const refused = await api(a, "post", "/api/logout-others", {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe("reauthentication_required");
    expect((await api(a, "post", "/api/reauth", { password: "not it at all, sorry" })).status).toBe(401);
    const ok = await api(a, "post", "/api/reauth", { password: GOOD_PASSWORD });
    expect(ok.status).toBe(200);
    expect(sessionCookieOf(ok)).not.toBeNull();
    expect((await api(a, "post", "/api/logout-others", {})).status).toBe(200);
  });

  it("a seed bcrypt hash verifies and is upgraded to argon2id at the next login", async () => {
    const bcrypt = (await import("bcryptjs")).default;
    await server.backends.users.createUser({ email: "legacy@example.com", passwordHash: await bcrypt.hash(GOOD_PASSWORD, 10) });
    await loginViaApi(server.app, "legacy@example.com");
    const user = await server.backends.users.findUserByEmail("legacy@example.com");
    expect(user?.passwordHash).toMatch(/^\$argon2id\$/);
    await loginViaApi(server.app, "legacy@example.com");
  });

  it("logs every auth event and never a password, ticket, cookie or hash", async () => {
    await registerViaApi(server.app, "logs@example.com");
    const res = await api(request(server.app), "post", "/api/login", { email: "logs@example.com", password: GOOD_PASSWORD });
    const cookie = sessionCookieOf(res) as string;
    const ticket = decodeURIComponent(cookie.split("=")[1] as string).slice(2).split(".")[0] as string;
    await api(request(server.app), "post", "/api/login", { email: "logs@example.com", password: "wrong wrong wrong wrong" });
    const text = server.logs.join("");
    expect(text).toContain('"event":"login.success"');
    expect(text).toContain('"event":"login.failure"');
    expect(text).toContain('"event":"register.success"');
    expect(text).not.toContain(GOOD_PASSWORD);
    expect(text).not.toContain("wrong wrong wrong wrong");
    expect(text).not.toContain(ticket);
    expect(text).not.toContain("$argon2id$");
  });
});

describe("when the session store is unreachable", () => {
  it("session routes answer 503 with a short message, never anonymous, never a stack; /readyz is 503", async () => {
    const server = await startTestServer();
    const failing = new Proxy(server.backends.store, {
      get(target, prop, receiver) {
        if (prop === "capabilities") return Reflect.get(target, prop, receiver);
        return () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
      },
    }) as SessionStore;
    try {
      const { app } = createApp({
        ...server.backends,
        config: server.config,
        secrets: [TEST_SECRET],
        store: failing,
        logger: createLogger({ level: "silent" }),
        checkReady: () => failing.get("probe").then(() => undefined),
        processMetrics: false,
      });
      const good = await startTestServer();
      await registerViaApi(good.app, "x@example.com");
      const cookie = sessionCookieOf(await api(request(good.app), "post", "/api/login", { email: "x@example.com", password: GOOD_PASSWORD })) as string;
      await good.close();
      const dashboard = await request(app).get("/dashboard").set("Cookie", cookie);
      expect(dashboard.status).toBe(503);
      expect(dashboard.text).not.toMatch(/ECONNREFUSED|at /);
      const apiMe = await request(app).get("/api/me").set("Cookie", cookie).set("Accept", "application/json");
      expect(apiMe.status).toBe(503);
      expect(apiMe.body.error).toBe("service_unavailable");
      expect((await request(app).get("/readyz")).status).toBe(503);
      expect((await request(app).get("/healthz")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
