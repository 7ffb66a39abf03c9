/**
 * One session across an Express, a Fastify and a Hono app that share a Redis (one prefix, one secret): the same
 * cookie format, the same records, the same revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisReachable, uniqueSuffix } from "../servers.js";
import { call, sessionCookieOf, startApp, type RunningApp } from "./apps.js";
import { openRedisStore, type OpenedStore } from "./backends.js";

const reachable = await redisReachable();

describe.skipIf(!reachable)("one session across Express, Fastify and Hono on one Redis", () => {
  const prefix = `cloakroom-test-cross-${uniqueSuffix()}:`;
  const stores: OpenedStore[] = [];
  let express: RunningApp;
  let fastify: RunningApp;
  let hono: RunningApp;
  beforeAll(async () => {
    // One RedisStore (and client) per app, as separate services would have.
    for (let i = 0; i < 3; i++) stores.push(openRedisStore(prefix));
    [express, fastify, hono] = await Promise.all([
      startApp("express", { store: stores[0]!.store }),
      startApp("fastify", { store: stores[1]!.store }),
      startApp("hono", { store: stores[2]!.store }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([express, fastify, hono].map((app) => app?.close()));
    for (const store of stores) await store.close();
  });

  it("a session created through Fastify is accepted by Express and Hono, and changes made by each are seen by all", async () => {
    const cookie = sessionCookieOf((await call(fastify, "POST", "/login/alice")).response)!;
    expect(cookie).toMatch(/^sid=s%3A/);
    for (const app of [express, hono]) expect((await call(app, "GET", "/dashboard", cookie)).text).toBe("Protected route");
    await call(hono, "POST", "/set/fromHono", cookie);
    await call(express, "POST", "/set/fromExpress", cookie);
    const seen = JSON.parse((await call(fastify, "GET", "/me", cookie)).text) as { keys: string[] };
    expect(seen.keys).toEqual(["fromExpress", "fromHono", "userId"]);
  });

  it("a logout through Express ends the session for Fastify and Hono", async () => {
    const cookie = sessionCookieOf((await call(hono, "POST", "/login/olivia")).response)!;
    expect((await call(fastify, "GET", "/dashboard", cookie)).response.status).toBe(200);
    await call(express, "POST", "/logout", cookie);
    for (const app of [fastify, hono]) expect((await call(app, "GET", "/dashboard", cookie)).response.status).toBe(401);
  });

  it("revoke-all through Hono is seen at once by Express and Fastify", async () => {
    const first = sessionCookieOf((await call(express, "POST", "/login/peggy")).response)!;
    const second = sessionCookieOf((await call(fastify, "POST", "/login/peggy")).response)!;
    expect((await call(hono, "POST", "/revoke-all", first)).text).toBe("2");
    expect((await call(express, "GET", "/dashboard", second)).response.status).toBe(401);
    expect((await call(fastify, "GET", "/dashboard", first)).response.status).toBe(401);
  });
});
