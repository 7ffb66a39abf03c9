import request from "supertest";
import { describe, expect, it } from "vitest";
import { MEMCACHED_URL, memcachedReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";
import { api, browserGet, loginViaApi, registerViaApi, startTestServer } from "./helpers.js";

describe("SESSION_STORE=memory", () => {
  it("serves the seed flow", async () => {
    const server = await startTestServer({ env: { SESSION_STORE: "memory" } });
    try {
      await registerViaApi(server.app, "mem@example.com");
      const agent = await loginViaApi(server.app, "mem@example.com");
      expect((await agent.get("/dashboard")).text).toBe("Protected route");
      expect((await request(server.app).get("/readyz")).body.store).toBe("memory");
    } finally {
      await server.close();
    }
  });
});

describe.runIf(await memcachedReachable())("SESSION_STORE=memcached (no per-user listing)", () => {
  it("the devices page says listing is unsupported, and log out everywhere else still works", async () => {
    const server = await startTestServer({ env: { SESSION_STORE: "memcached", MEMCACHED_URL }, overrides: { keyPrefix: `t${uniqueSuffix()}:` } });
    try {
      await registerViaApi(server.app, "mc@example.com");
      const a = await loginViaApi(server.app, "mc@example.com");
      const b = await loginViaApi(server.app, "mc@example.com");
      const page = await browserGet(a, "/devices");
      expect(page.status).toBe(200);
      expect(page.text).toContain("cannot list sessions");
      expect(page.text).toContain("Log out everywhere else");
      expect((await api(a, "get", "/api/sessions")).body.error).toBe("sessions_not_listable");
      expect((await api(a, "post", "/api/logout-others", {})).status).toBe(200);
      expect((await api(b, "get", "/api/me")).status).toBe(401);
      expect((await api(a, "get", "/api/me")).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
