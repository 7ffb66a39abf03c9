import { randomBytes } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TICKET_MISSES_PER_WINDOW } from "../src/security/ticket-spray.js";
import { startTestServer, type TestServer } from "./helpers.js";

describe("sprays of invalid session tickets (OWASP: session ID guessing detection)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("a client guessing tickets gets 429 with Retry-After after the limit, and the block is logged once", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < TICKET_MISSES_PER_WINDOW + 20; i++) {
      const guess = `s:${randomBytes(32).toString("base64url")}.${randomBytes(32).toString("base64").replace(/=+$/, "")}`;
      const res = await request(server.app).get("/api/me").set("Cookie", `sid=${encodeURIComponent(guess)}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
        expect(res.body.error).toBe("too_many_attempts");
      }
    }
    expect(statuses.slice(0, TICKET_MISSES_PER_WINDOW)).not.toContain(429);
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
    const alerts = server.logs.filter((line) => line.includes('"session.ticket_spray"'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain('"level":40');
    const metrics = await request(server.app).get("/metrics");
    expect(metrics.text).toMatch(/cloakroom_login_throttled_total\{scope="session_ticket"\} 1/);
  });
});
