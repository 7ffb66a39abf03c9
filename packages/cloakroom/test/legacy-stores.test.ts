/**
 * Existing express-session stores behind cloakroom/express, against the real servers: connect-redis (node-redis)
 * and connect-pg-simple (pg). They keep express-session's semantics: the raw id is the key, writes replace the
 * whole object — and a session written by either middleware is readable by the other, so a migration can be rolled
 * back.
 */
import { createRequire } from "node:module";
import express from "express";
import pg from "pg";
import { RedisStore as ConnectRedisStore } from "connect-redis";
import { createClient } from "redis";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import session from "cloakroom/express";
import { DATABASE_URL, REDIS_URL, postgresReachable, redisReachable, uniqueSuffix } from "./servers.js";

const require = createRequire(import.meta.url);
const expressSession = require("express-session") as ((options: object) => express.RequestHandler) & { Store: unknown };
const connectPgSimple = require("connect-pg-simple") as (s: unknown) => new (options: object) => object;

const SECRET = "legacy-store-test-secret-0123456789abcdef";
type Req = express.Request & { session: Record<string, unknown> };

function cloakroomApp(store: object) {
  const app = express();
  app.use(session({ secret: SECRET, name: "connect.sid", store: store as never }));
  app.post("/login", (req, res) => {
    (req as Req).session.userId = "legacy-u1";
    res.send("Logged in");
  });
  app.post("/note", (req, res) => {
    (req as Req).session.note = "kept";
    res.send("ok");
  });
  app.get("/me", (req, res) => res.json({ userId: (req as Req).session.userId ?? null, note: (req as Req).session.note ?? null }));
  app.post("/logout", (req, res) => req.session.destroy(() => res.send("Logged out")));
  return app;
}

function expressSessionApp(store: object) {
  const app = express();
  app.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store }));
  app.post("/login", (req, res) => {
    (req as Req).session.userId = "from-express-session";
    res.send("ok");
  });
  app.get("/me", (req, res) => res.json({ userId: (req as Req).session.userId ?? null }));
  return app;
}

function cookieOf(res: request.Response): string {
  const line = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((l) => l.startsWith("connect.sid="));
  if (!line) throw new Error("no connect.sid cookie");
  return line.split(";")[0]!;
}

async function exercise(store: object): Promise<void> {
  const app = cloakroomApp(store);
  const login = await request(app).post("/login");
  const cookie = cookieOf(login);
  expect((await request(app).post("/note").set("Cookie", cookie)).status).toBe(200);
  expect((await request(app).get("/me").set("Cookie", cookie)).body).toEqual({ userId: "legacy-u1", note: "kept" });
  // express-session reads what cloakroom wrote (rolling back a migration keeps users logged in).
  expect((await request(expressSessionApp(store)).get("/me").set("Cookie", cookie)).body.userId).toBe("legacy-u1");
  // cloakroom reads what express-session wrote.
  const theirs = cookieOf(await request(expressSessionApp(store)).post("/login"));
  expect((await request(app).get("/me").set("Cookie", theirs)).body.userId).toBe("from-express-session");
  // Logout destroys the record in the real store.
  expect((await request(app).post("/logout").set("Cookie", cookie)).text).toBe("Logged out");
  expect((await request(app).get("/me").set("Cookie", cookie)).body.userId).toBeNull();
  expect((await request(expressSessionApp(store)).get("/me").set("Cookie", cookie)).body.userId).toBeNull();
}

const redisUp = await redisReachable();
describe.skipIf(!redisUp)("connect-redis 9 (node-redis) behind cloakroom/express", () => {
  const client = createClient({ url: REDIS_URL });
  const prefix = `legacy_${uniqueSuffix()}:`;
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length) await client.del(keys);
    await client.quit();
  });

  it("logs in, keeps data, interoperates with express-session and logs out", async () => {
    await exercise(new ConnectRedisStore({ client, prefix }));
  });

  it("the record sits under the raw id with a TTL derived from the session's expiry", async () => {
    const store = new ConnectRedisStore({ client, prefix });
    const cookie = cookieOf(await request(cloakroomApp(store)).post("/login"));
    const sid = decodeURIComponent(cookie.split("=")[1]!).slice(2).split(".")[0]!;
    const ttl = await client.ttl(`${prefix}${sid}`);
    expect(ttl).toBeGreaterThan(25 * 60);
    expect(ttl).toBeLessThanOrEqual(30 * 60);
  });
});

const postgresUp = await postgresReachable();
describe.skipIf(!postgresUp)("connect-pg-simple 10 behind cloakroom/express", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const tableName = `legacy_session_${uniqueSuffix()}`;
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${tableName}"`);
    await pool.end();
  });

  it("logs in, keeps data, interoperates with express-session and logs out", async () => {
    const PgStore = connectPgSimple(expressSession);
    const store = new PgStore({ pool, tableName, createTableIfMissing: true, pruneSessionInterval: false });
    await exercise(store);
  });
});
