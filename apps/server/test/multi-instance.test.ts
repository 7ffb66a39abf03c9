/**
 * Three real server processes (`npm run cluster`'s startCluster) on one shared store with SESSION_CACHE=on, plus a
 * fourth with the cache off for comparison: once on Redis, once on PostgreSQL. Log in on one, use the session on
 * another, log out on a third; revocation is seen everywhere; the logout → refusal delay is measured and printed.
 */
import http from "node:http";
import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { RedisStore } from "cloakroom/redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, REDIS_URL, postgresReachable, redisReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";
import { runCli } from "../src/cli.js";
import { startCluster, type Cluster } from "../src/cluster/cluster.js";
import { startInstance, type InstanceProcess } from "../src/cluster/instances.js";
import { call, type Answer, describeLatencies, instanceEnv, login, meStatus, percentile, register, tempDir, uniqueEmail, waitForStatus } from "./multi-helpers.js";

const redisUp = await redisReachable();
const postgresUp = await postgresReachable();
/**
 * Logouts measured per store; each gives two cached measurements (100 in all, so p99 is not simply the maximum: one
 * outlier from a starved 2-core machine does not decide it) and costs one login (one argon2id verification).
 */
const SAMPLES = 50;
/** The target for the cache's revocation delay. */
const P99_TARGET_MS = 100;

/** What each store's set-up provides to the shared tests. */
interface Fixture {
  cluster: Cluster;
  /** The same store and users, SESSION_CACHE=off. */
  uncached: InstanceProcess;
  /** The user ids the tests created, for the clean-up. */
  userIds: Set<string>;
}

async function userIdOf(base: string, cookie: string): Promise<string> {
  const me = await call(base, "GET", "/api/me", { cookie });
  return (me.json as { user: { id: string } }).user.id;
}

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  let out = "";
  const stdout = new PassThrough().on("data", (c) => (out += String(c)));
  const code = await runCli(argv, env, { stdin: new PassThrough(), stdout, stderr: new PassThrough() });
  return { code, out };
}

/** The tests every shared store must pass. */
function sharedStoreTests(label: string, fixture: () => Fixture): void {
  const urls = (): string[] => fixture().cluster.instances.map((i) => i.url);

  it("a session made on A works on B; logged out on C, A and B refuse it at once", { timeout: 20_000 }, async () => {
    const [a, b, c] = urls() as [string, string, string];
    const email = uniqueEmail(`${label}-abc`);
    fixture().userIds.add(await userIdOf(a, await register(a, email)));
    const cookie = await login(a, email);
    // Read on A and B first, so both hold the session in their cache.
    expect(await meStatus(b, cookie)).toBe(200);
    expect(await meStatus(a, cookie)).toBe(200);
    expect(await meStatus(b, cookie)).toBe(200);

    expect((await call(c, "POST", "/api/logout", { cookie, body: {} })).status).toBe(200);
    const since = performance.now();
    const [onA, onB, onUncached] = await Promise.all([
      waitForStatus(a, cookie, 401, { since, limitMs: P99_TARGET_MS }),
      waitForStatus(b, cookie, 401, { since, limitMs: P99_TARGET_MS }),
      waitForStatus(fixture().uncached.url, cookie, 401, { since, limitMs: P99_TARGET_MS }),
    ]);
    // Without the cache every read goes to the shared store: the first request after the logout is refused.
    expect(onUncached.polls).toBe(1);
    console.log(`[${label}] refused after logout on C: A ${onA.ms.toFixed(1)} ms (${onA.polls} request(s)), B ${onB.ms.toFixed(1)} ms (${onB.polls}), uncached ${onUncached.ms.toFixed(1)} ms`);
  });

  it("log out everywhere from one instance, and an operator's revoke, are seen on every instance", { timeout: 20_000 }, async () => {
    const all = [...urls(), fixture().uncached.url];
    const [a, b, c] = urls() as [string, string, string];
    const email = uniqueEmail(`${label}-all`);
    await register(b, email);
    const here = await login(a, email);
    const others = [await login(b, email), await login(c, email)];
    fixture().userIds.add(await userIdOf(a, here));
    for (const url of all) for (const cookie of [here, ...others]) expect(await meStatus(url, cookie)).toBe(200);

    const revoked = await call(a, "POST", "/api/logout-others", { cookie: here, body: {} });
    expect(revoked.status).toBe(200);
    expect((revoked.json as { revoked: number }).revoked).toBeGreaterThanOrEqual(2);
    const since = performance.now();
    for (const url of all) {
      for (const cookie of others) await waitForStatus(url, cookie, 401, { since, limitMs: P99_TARGET_MS });
      expect(await meStatus(url, here)).toBe(200);
    }

    // The CLI with the servers' environment goes through the same cached store, so it publishes the invalidation too.
    const revokedByOperator = await cli(["sessions", "revoke", "--user", email], fixture().cluster.env);
    expect(revokedByOperator.code).toBe(0);
    const since2 = performance.now();
    for (const url of all) await waitForStatus(url, here, 401, { since: since2, limitMs: P99_TARGET_MS });
  });

  it(`measures logout → refusal on the other instances (cache on: p99 ≤ ${P99_TARGET_MS} ms)`, { timeout: 90_000 }, async () => {
    const list = urls();
    const uncached = fixture().uncached.url;
    const email = uniqueEmail(`${label}-latency`);
    fixture().userIds.add(await userIdOf(list[0] as string, await register(list[0] as string, email)));
    const cached: number[] = [];
    const direct: number[] = [];
    let staleAnswers = 0;
    for (let i = 0; i < SAMPLES; i++) {
      // Rotate the roles: log in on x, read on x and y (cached there) and on the uncached one, log out on z.
      const [x, y, z] = [list[i % 3], list[(i + 1) % 3], list[(i + 2) % 3]] as [string, string, string];
      const cookie = await login(x, email);
      for (const url of [x, y, uncached, x, y]) expect(await meStatus(url, cookie)).toBe(200);
      expect((await call(z, "POST", "/api/logout", { cookie, body: {} })).status).toBe(200);
      const since = performance.now();
      const results = await Promise.all([
        waitForStatus(x, cookie, 401, { since, limitMs: 10_000 }),
        waitForStatus(y, cookie, 401, { since, limitMs: 10_000 }),
        waitForStatus(uncached, cookie, 401, { since, limitMs: 10_000 }),
      ]);
      for (const r of results.slice(0, 2)) cached.push(r.ms);
      direct.push((results[2] as { ms: number }).ms);
      staleAnswers += results.reduce((n, r) => n + r.polls - 1, 0);
    }
    console.log(`[${label}] logout → refusal on another instance, cache on:  ${describeLatencies(cached)}; answers still 200 after the logout: ${staleAnswers}`);
    console.log(`[${label}] logout → refusal on another instance, cache off: ${describeLatencies(direct)}`);

    // What the cache saves: a signed-in read served from memory vs from the shared store.
    const cookie = await login(list[0] as string, email);
    const reads = async (url: string): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const start = performance.now();
        expect(await meStatus(url, cookie)).toBe(200);
        times.push(performance.now() - start);
      }
      return times;
    };
    await reads(list[0] as string); // warm up both processes' code paths
    await reads(uncached);
    console.log(`[${label}] GET /api/me round trip, cache on: ${describeLatencies(await reads(list[0] as string))}; cache off: ${describeLatencies(await reads(uncached))}`);
    // The target, unless the machine itself is slower than that without the cache (a starved, shared 2-core box):
    // then what is checked is what the cache adds, at most 20 ms at p99.
    const bound = Math.max(P99_TARGET_MS, percentile(direct, 99) + 20);
    if (bound > P99_TARGET_MS) console.log(`[${label}] the machine is slow (cache off p99 ${percentile(direct, 99).toFixed(0)} ms): bound relaxed to ${bound.toFixed(0)} ms`);
    expect(percentile(cached, 99)).toBeLessThanOrEqual(bound);
  });
}

describe.runIf(redisUp)("three instances on one Redis (cache on), and one more with the cache off", () => {
  const data = tempDir("cloakroom-multi-redis-");
  let fixture: Fixture;
  beforeAll(async () => {
    // Users in one SQLite file every instance opens, as `npm run cluster` does by default.
    const env = instanceEnv({ REDIS_URL, DATA_DIR: data.dir });
    const cluster = await startCluster({ instances: 3, port: 0, store: "redis", cache: true, env });
    const uncached = await startInstance({ env: { ...cluster.env, SESSION_CACHE: "off" } }).catch(async (error: unknown) => {
      await cluster.stop();
      throw error;
    });
    fixture = { cluster, uncached, userIds: new Set() };
  });
  afterAll(async () => {
    try {
      if (fixture) {
        // Sessions expire by themselves; remove ours now from the machine's Redis all the same.
        const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        const { RedisStore } = await import("cloakroom/redis");
        const store = new RedisStore({ client, prefix: "cloakroom:sess:" });
        for (const id of fixture.userIds) await store.destroyByUser(id).catch(() => 0);
        client.disconnect();
      }
    } finally {
      await Promise.all([fixture?.cluster.stop(), fixture?.uncached.stop()]);
      data.remove();
    }
  });

  sharedStoreTests("redis", () => fixture);

  it("the round-robin front spreads one session over all three instances and passes X-Forwarded-For/Proto", { timeout: 20_000 }, async () => {
    const front = fixture.cluster.url;
    const email = uniqueEmail("front");
    fixture.userIds.add(await userIdOf(front, await register(front, email)));
    // From another loopback address, claiming HTTPS and a spoofed client address: the front replaces both.
    const answer = await requestFrom("127.0.0.5", `${front}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" },
      body: JSON.stringify({ email, password: "plum orchard lantern mosaic" }),
    });
    expect(answer.status).toBe(200);
    const setCookie = answer.setCookie.find((l) => l.startsWith("sid=")) as string;
    expect(setCookie).not.toMatch(/Secure/i); // X-Forwarded-Proto is the front's own (http), not the client's claim
    const cookie = setCookie.split(";")[0] as string;
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const me = await call(front, "GET", "/api/me", { cookie });
      expect(me.status).toBe(200);
      served.add(me.headers.get("x-cloakroom-instance") ?? "?");
    }
    expect([...served].sort()).toEqual(["1", "2", "3"]);
    const sessions = (await call(front, "GET", "/api/sessions", { cookie })).json as { sessions: { current: boolean; ip: string }[] };
    expect(sessions.sessions.find((s) => s.current)?.ip).toBe("127.0.0.5"); // req.ip came from X-Forwarded-For
  });

  it("an instance killed mid-request leaves no half-written session, and the others serve the user on", { timeout: 30_000 }, async () => {
    const [a, b] = fixture.cluster.instances.map((i) => i.url) as [string, string];
    const victim = fixture.cluster.instances[2] as InstanceProcess;
    const email = uniqueEmail("kill");
    const userId = await userIdOf(a, await register(a, email));
    fixture.userIds.add(userId);
    const survivor = await login(a, email);

    // Six clients log in on the victim over and over (each login creates a session); after the fourth answer it gets
    // SIGKILL, so the logins then in flight are cut off at whatever step they were.
    const answers: Answer[] = [];
    const loginLoop = async (): Promise<void> => {
      while (victim.alive()) {
        const res = await call(victim.url, "POST", "/api/login", { body: { email, password: "plum orchard lantern mosaic" } });
        answers.push(res);
        if (answers.length === 4) await victim.stop("SIGKILL");
      }
    };
    await Promise.all(Array.from({ length: 6 }, loginLoop));
    expect(victim.alive()).toBe(false);
    expect(answers.some((r) => r.status === 0)).toBe(true); // some were cut off by the kill
    expect(answers.every((r) => [0, 200].includes(r.status))).toBe(true);

    // The session the user already had, and every one the victim handed out before dying, work on the others.
    expect(await meStatus(b, survivor)).toBe(200);
    const handedOut = answers.filter((r) => r.status === 200 && r.cookie && !r.cookie.endsWith("=")).map((r) => r.cookie as string);
    for (const cookie of handedOut) expect(await meStatus(b, cookie)).toBe(200);
    console.log(`[redis] instance killed: ${handedOut.length} logins answered before the kill (all valid on the others), ${answers.filter((r) => r.status === 0).length} cut off`);

    // Every record in the user's index is whole (written by one command, or not at all): each one decodes.
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const sessions = await new RedisStore({ client, prefix: "cloakroom:sess:" }).listByUser(userId);
      expect(sessions.length).toBeGreaterThan(0);
      for (const { record } of sessions) expect(record).toMatchObject({ userId, version: expect.any(Number) });
    } finally {
      client.disconnect();
    }

    // Through the front, the user goes on: requests meant for the dead instance go to the next one.
    const fresh = await login(fixture.cluster.url, email);
    for (let i = 0; i < 6; i++) expect((await call(fixture.cluster.url, "GET", "/api/me", { cookie: fresh })).status).toBe(200);
  });
});

describe.runIf(postgresUp)("three instances on one PostgreSQL (cache on), and one more with the cache off", () => {
  const data = tempDir("cloakroom-multi-pg-");
  // A database of its own: users, sessions and login counters, dropped at the end whatever happened.
  const database = `cloakroom_multi_${uniqueSuffix().toLowerCase()}`;
  const url = new URL(DATABASE_URL);
  url.pathname = `/${database}`;
  let fixture: Fixture;
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`).finally(() => admin.end());
    const env = instanceEnv({ DATABASE_URL: url.toString(), DATA_DIR: data.dir });
    const cluster = await startCluster({ instances: 3, port: 0, store: "postgres", cache: true, env });
    const uncached = await startInstance({ env: { ...cluster.env, SESSION_CACHE: "off" } }).catch(async (error: unknown) => {
      await cluster.stop();
      throw error;
    });
    fixture = { cluster, uncached, userIds: new Set() };
  });
  afterAll(async () => {
    await Promise.all([fixture?.cluster.stop(), fixture?.uncached.stop()]);
    data.remove();
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => admin.end());
  });

  sharedStoreTests("postgres", () => fixture);
});

/** An HTTP request sent from a chosen local address (to see which client address the instance believes). */
function requestFrom(localAddress: string, target: string, options: { method: string; headers: Record<string, string>; body: string }): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: options.method, headers: options.headers, localAddress }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers["set-cookie"] ?? [] }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
