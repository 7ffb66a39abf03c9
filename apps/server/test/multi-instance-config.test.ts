/**
 * The pieces of the cluster that need no store: SESSION_CACHE validation, and the front against in-process upstreams
 * that echo what they received.
 */
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterConfigError, startCluster } from "../src/cluster/cluster.js";
import { createFront } from "../src/cluster/front.js";
import { loadConfig } from "../src/config.js";
import { freePort } from "./outage-servers.js";

describe("SESSION_CACHE and SESSION_CACHE_TTL", () => {
  const base = { REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: "postgres://localhost/x", MEMCACHED_URL: "127.0.0.1:11211" };

  it("is off by default, and on with a 5 s TTL for redis and postgres", () => {
    const off = loadConfig({ ...base, SESSION_STORE: "redis" });
    expect(off.ok && off.config.session).toEqual({ store: "redis", redisUrl: base.REDIS_URL, cache: null });
    for (const store of ["redis", "postgres"]) {
      const on = loadConfig({ ...base, SESSION_STORE: store, SESSION_CACHE: "on" });
      expect(on.ok && on.config.session).toMatchObject({ store, cache: { ttl: 5000 } });
    }
    const short = loadConfig({ ...base, SESSION_STORE: "redis", SESSION_CACHE: "on", SESSION_CACHE_TTL: "250ms" });
    expect(short.ok && short.config.session).toMatchObject({ cache: { ttl: 250 } });
  });

  it("refuses on for memory, sqlite and memcached with one line naming the variable", () => {
    for (const store of ["memory", "sqlite", "memcached"]) {
      expect(loadConfig({ ...base, SESSION_STORE: store, SESSION_CACHE: "on" })).toEqual({
        ok: false,
        message: `Invalid configuration: SESSION_CACHE=on needs SESSION_STORE=redis or postgres (it is ${store}, which has no invalidation channel)`,
      });
    }
  });

  it("refuses bad values naming the variable", () => {
    expect(loadConfig({ SESSION_CACHE: "yes" })).toEqual({ ok: false, message: "Invalid configuration: SESSION_CACHE must be off or on" });
    const ttl = loadConfig({ ...base, SESSION_STORE: "redis", SESSION_CACHE: "on", SESSION_CACHE_TTL: "2h" });
    expect(ttl).toEqual({ ok: false, message: "Invalid configuration: SESSION_CACHE_TTL must be a duration like 30m, 12h or 900s (between 100ms and 1m)" });
  });

  it("npm start stops with that line", { timeout: 30_000 }, () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", main], {
      env: { PATH: process.env.PATH ?? "", SESSION_STORE: "sqlite", SESSION_CACHE: "on", PORT: "0" },
      encoding: "utf8",
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("Invalid configuration: SESSION_CACHE=on needs SESSION_STORE=redis or postgres (it is sqlite, which has no invalidation channel)");
  });

  it("the cluster refuses what cannot work before starting anything", async () => {
    await expect(startCluster({ store: "memory", env: {} })).rejects.toThrow(/--store memory needs --sticky/);
    await expect(startCluster({ instances: 0, env: {} })).rejects.toThrow(ClusterConfigError);
    await expect(startCluster({ store: "memory", sticky: true, cache: true, env: {} })).rejects.toThrow(/^SESSION_CACHE=on needs SESSION_STORE=redis or postgres/);
    await expect(startCluster({ store: "postgres", env: {} })).rejects.toThrow("DATABASE_URL is required when SESSION_STORE=postgres");
  });
});

/** An upstream that answers with what it received, and its number. */
function echoServer(id: number): http.Server {
  return http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += String(c)));
    req.on("end", () => {
      res.setHeader("Connection", "keep-alive");
      res.setHeader("Keep-Alive", "timeout=99");
      res.setHeader("Set-Cookie", "sid=abc; Path=/; HttpOnly");
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function rawRequest(target: string, options: { method: string; headers: Record<string, string>; body: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: options.method, headers: options.headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += String(c)));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

interface Echo {
  id: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe("the front", () => {
  const upstreams = [echoServer(1), echoServer(2)];
  let urls: string[] = [];
  let deadUrl: string;
  beforeAll(async () => {
    urls = await Promise.all(upstreams.map(listen));
    deadUrl = `http://127.0.0.1:${await freePort()}`; // nobody listens there: connections are refused
  });
  afterAll(() => Promise.all(upstreams.map(close)));

  async function withFront<T>(options: Parameters<typeof createFront>[0], run: (base: string) => Promise<T>): Promise<T> {
    const front = createFront(options);
    const base = await listen(front);
    try {
      return await run(base);
    } finally {
      await close(front);
    }
  }

  it("forwards method, path, body and headers; replaces X-Forwarded-*; drops hop-by-hop headers", async () => {
    await withFront({ upstreams: urls }, async (base) => {
      // node:http, not fetch: fetch refuses to send a Connection header.
      const res = await rawRequest(`${base}/api/login?x=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-custom": "kept", connection: "keep-alive, x-custom-hop", "x-custom-hop": "dropped" },
        body: '{"a":1}',
      });
      const echo = JSON.parse(res.body) as Echo;
      expect(echo).toMatchObject({ method: "POST", url: "/api/login?x=1", body: '{"a":1}' });
      expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(echo.headers["x-forwarded-proto"]).toBe("http");
      expect(echo.headers["x-forwarded-host"]).toBe(new URL(base).host);
      expect(echo.headers.host).toBe(new URL(base).host); // the instances see the origin the browser used
      expect(echo.headers["x-custom"]).toBe("kept");
      expect(echo.headers["x-custom-hop"]).toBeUndefined();
      expect(res.headers["keep-alive"]).not.toBe("timeout=99"); // the front's own connection, not the upstream's
      expect(res.headers["set-cookie"]).toEqual(["sid=abc; Path=/; HttpOnly"]);
      expect(res.headers["x-cloakroom-instance"]).toBe(String(echo.id));
    });
  });

  it("takes turns without stickiness, and skips an instance that refuses connections", async () => {
    await withFront({ upstreams: [urls[0] as string, deadUrl, urls[1] as string] }, async (base) => {
      const served: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/`, { method: "POST", body: "x" });
        expect(res.status).toBe(200);
        served.push(res.headers.get("x-cloakroom-instance") as string);
      }
      expect(served).toEqual(["1", "3", "3", "1", "3", "3"]);
    });
  });

  it("answers 502 when no instance takes the connection, and 413 for bodies over the limit", async () => {
    await withFront({ upstreams: [deadUrl] }, async (base) => {
      expect((await fetch(`${base}/`)).status).toBe(502);
    });
    await withFront({ upstreams: urls, maxBodyBytes: 10 }, async (base) => {
      expect((await fetch(`${base}/`, { method: "POST", body: "x".repeat(11) })).status).toBe(413);
    });
  });

  it("with sticky, pins a browser with a cookie set once, and re-pins when its instance is gone", async () => {
    await withFront({ upstreams: urls, sticky: true }, async (base) => {
      const first = await fetch(`${base}/`);
      const pin = first.headers.getSetCookie().find((l) => l.startsWith("cloakroom_instance=")) as string;
      expect(pin).toMatch(/^cloakroom_instance=1; Path=\/; HttpOnly; SameSite=Lax$/);
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base}/`, { headers: { cookie: "sid=s%3Axyz; cloakroom_instance=1" } });
        expect(res.headers.get("x-cloakroom-instance")).toBe("1");
        expect(res.headers.getSetCookie().some((l) => l.startsWith("cloakroom_instance="))).toBe(false);
      }
      const bogus = await fetch(`${base}/`, { headers: { cookie: "cloakroom_instance=9" } });
      expect(bogus.headers.getSetCookie().some((l) => l.startsWith("cloakroom_instance="))).toBe(true);
    });
    await withFront({ upstreams: [deadUrl, urls[1] as string], sticky: true }, async (base) => {
      const res = await fetch(`${base}/`, { headers: { cookie: "cloakroom_instance=1" } });
      expect(res.headers.get("x-cloakroom-instance")).toBe("2");
      expect(res.headers.getSetCookie()).toContain("cloakroom_instance=2; Path=/; HttpOnly; SameSite=Lax");
    });
  });
});
