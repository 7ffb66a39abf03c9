/**
 * What only cloakroom/fastify has: @fastify/session's method names on `request.session`, `fastify.sessionManager`,
 * Fastify's trustProxy, the onSend commit beside the route's own cookies, and option errors at register time.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "cloakroom";
import cloakroom, { Session, type FastifySessionOptions } from "cloakroom/fastify";
import { FaultyStore } from "./backends.js";

const SECRET = "fastify-adapter-test-secret-0123456789";
const apps: FastifyInstance[] = [];
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

async function build(options: Partial<FastifySessionOptions> = {}, fastifyOptions: object = {}, routes?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions);
  apps.push(app);
  await app.register(cloakroom, { secret: SECRET, ...options });
  app.post("/login", async (request, reply) => {
    request.session.set("userId", "u1");
    reply.header("set-cookie", "theme=dark; Path=/");
    return "Logged in";
  });
  app.get("/me", async (request) => ({ userId: request.session.get("userId") ?? null, cart: request.session.cart ?? null, id: request.session.sessionId !== null }));
  app.post("/cart", async (request) => {
    request.session.cart = 3;
    await request.session.save();
    return "saved";
  });
  app.post("/regenerate", async (request) => {
    await request.session.regenerate(["cart"]);
    return { userId: request.session.userId ?? null, cart: request.session.cart ?? null };
  });
  app.post("/reload", async (request) => {
    request.session.cart = 99;
    await request.session.reload();
    return { cart: request.session.cart ?? null };
  });
  app.post("/touch", async (request) => {
    request.session.touch();
    return "touched";
  });
  app.post("/forget", async (request) => {
    delete request.session.userId;
    return "forgotten";
  });
  app.get("/devices", async (request) => (await app.sessionManager.listUserSessions(String(request.session.userId))).length);
  routes?.(app);
  await app.ready();
  return app;
}

function cookieOf(response: { headers: Record<string, unknown> }): string {
  const lines = ([] as string[]).concat((response.headers["set-cookie"] as string | string[] | undefined) ?? []);
  const line = lines.find((l) => /^(__Host-)?sid=/.test(l));
  if (!line) throw new Error("no session cookie");
  return line.split(";")[0]!;
}

describe("cloakroom/fastify", () => {
  it("get/set/sessionId and save(); the session's cookie goes beside the route's own", async () => {
    const app = await build();
    const login = await app.inject({ method: "POST", url: "/login" });
    const cookie = cookieOf(login);
    expect(login.headers["set-cookie"]).toEqual(["theme=dark; Path=/", expect.stringMatching(/^sid=s%3A/)]);
    expect(login.headers["cache-control"]).toBe("no-store");
    const cart = await app.inject({ method: "POST", url: "/cart", headers: { cookie } });
    expect([cart.statusCode, cart.headers["set-cookie"]]).toEqual([200, undefined]);
    expect(JSON.parse((await app.inject({ url: "/me", headers: { cookie } })).body)).toEqual({ userId: "u1", cart: 3, id: true });
  });

  it("regenerate(ignoreFields) issues a new ticket and keeps only the named fields", async () => {
    const app = await build();
    const cookie = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    await app.inject({ method: "POST", url: "/cart", headers: { cookie } });
    const regenerated = await app.inject({ method: "POST", url: "/regenerate", headers: { cookie } });
    expect(JSON.parse(regenerated.body)).toEqual({ userId: null, cart: 3 });
    const fresh = cookieOf(regenerated);
    expect(fresh).not.toBe(cookie);
    expect(JSON.parse((await app.inject({ url: "/me", headers: { cookie } })).body).userId).toBeNull();
    expect(JSON.parse((await app.inject({ url: "/me", headers: { cookie: fresh } })).body).cart).toBe(3);
  });

  it("reload() drops unsaved changes; touch() and delete work", async () => {
    const app = await build();
    const cookie = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    expect(JSON.parse((await app.inject({ method: "POST", url: "/reload", headers: { cookie } })).body)).toEqual({ cart: null });
    expect((await app.inject({ method: "POST", url: "/touch", headers: { cookie } })).statusCode).toBe(200);
    await app.inject({ method: "POST", url: "/forget", headers: { cookie } });
    expect(JSON.parse((await app.inject({ url: "/me", headers: { cookie } })).body).userId).toBeNull();
  });

  it("set() refuses a name that is not data", async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(cloakroom, { secret: SECRET });
    app.get("/bad", async (request) => {
      request.session.set("destroy", 1);
      return "no";
    });
    expect((await app.inject({ url: "/bad" })).statusCode).toBe(500);
  });

  it("fastify.sessionManager lists the user's sessions", async () => {
    const store = new MemoryStore();
    const app = await build({ store });
    const a = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    cookieOf(await app.inject({ method: "POST", url: "/login" }));
    expect((await app.inject({ url: "/devices", headers: { cookie: a } })).body).toBe("2");
    expect(app.sessionManager.store).toBe(store);
  });

  it("over HTTPS behind a trusted proxy: __Host-sid with Secure; a spoofed X-Forwarded-Proto is ignored without trustProxy", async () => {
    const trusting = await build({}, { trustProxy: true });
    const line = ([] as string[]).concat(
      (await trusting.inject({ method: "POST", url: "/login", headers: { "x-forwarded-proto": "https" } })).headers["set-cookie"] as string,
    )[1]!;
    expect(line).toMatch(/^__Host-sid=s%3A.*; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const plain = await build();
    expect(cookieOf(await plain.inject({ method: "POST", url: "/login", headers: { "x-forwarded-proto": "https" } }))).toMatch(/^sid=/);
  });

  it("a request without a cookie: an empty session, no Set-Cookie; a read-only logged-in request sets none either", async () => {
    const app = await build({ store: new FaultyStore() });
    const anonymous = await app.inject({ url: "/me" });
    expect([JSON.parse(anonymous.body), anonymous.headers["set-cookie"], anonymous.headers["cache-control"]]).toEqual([{ userId: null, cart: null, id: false }, undefined, undefined]);
    const cookie = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    const me = await app.inject({ url: "/me", headers: { cookie } });
    expect([JSON.parse(me.body).userId, me.headers["set-cookie"]]).toEqual(["u1", undefined]);
  });

  it("a store whose synchronous read throws: 503 for a request with a cookie; a store that fails on commit: 503 without the route's cookies", async () => {
    const store = new FaultyStore();
    const app = await build({ store });
    const cookie = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    store.failPeek = true;
    expect((await app.inject({ url: "/me", headers: { cookie } })).statusCode).toBe(503);
    expect((await app.inject({ url: "/me" })).statusCode).toBe(200);
    store.failPeek = false;
    store.failWrites = true;
    const login = await app.inject({ method: "POST", url: "/login" });
    expect([login.statusCode, login.headers["set-cookie"]]).toEqual([503, undefined]);
    expect((await app.inject({ method: "POST", url: "/forget", headers: { cookie } })).statusCode).toBe(503);
  });

  it("a cookie path other than \"/\", static or from a function: outside it request.session is a plain object", async () => {
    for (const cookie of [{ path: "/app" }, () => ({ path: "/app" })]) {
      const app = await build({ store: new FaultyStore(), cookie, saveUninitialized: true } as Partial<FastifySessionOptions>, {}, (app) => {
        app.get("/*", async (request) => (request.session instanceof Session ? "session" : "plain"));
      });
      const outside = await app.inject({ url: "/elsewhere" });
      expect([outside.body, outside.headers["set-cookie"]]).toEqual(["plain", undefined]);
      const inside = await app.inject({ url: "/app/x" });
      expect(inside.body).toBe("session");
      expect(inside.headers["set-cookie"]).toMatch(/^sid=.*; Path=\/app;/);
    }
  });

  it("callback forms: save, reload, regenerate([fields, ]cb), destroy, rotate; a failure reaches the callback", async () => {
    const app = await build({}, {}, (app) => {
      app.post("/callbacks", (request, reply) => {
        const session = request.session;
        const seen: string[] = [];
        const step = (name: string, next: () => void) => (error?: Error) => {
          seen.push(`${name}:${error ? error.message : "ok"}`);
          next();
        };
        session.cart = 1;
        session.save(step("save", () => {
          session.cart = 2;
          session.reload(step("reload", () => {
            seen.push(`cart=${String(session.cart)}`);
            session.rotate(step("rotate", () => {
              session.regenerate(["cart"], step("regenerate", () => {
                seen.push(`kept=${String(session.cart)},user=${String(session.userId)}`);
                session.destroy(step("destroy", () => reply.send(seen)));
              }));
            }));
          }));
        }));
      });
      app.post("/reload-new", (request, reply) => {
        request.session.reload((error) => reply.send({ error: error?.message ?? null }));
      });
    });
    const cookie = cookieOf(await app.inject({ method: "POST", url: "/login" }));
    const answer = await app.inject({ method: "POST", url: "/callbacks", headers: { cookie } });
    expect(JSON.parse(answer.body)).toEqual(["save:ok", "reload:ok", "cart=1", "rotate:ok", "regenerate:ok", "kept=1,user=undefined", "destroy:ok"]);
    expect(JSON.parse((await app.inject({ method: "POST", url: "/reload-new" })).body)).toEqual({ error: "failed to load session" });
  });

  it("without a callback each method returns a Promise; with one it returns nothing", async () => {
    const app = await build({}, {}, (app) => app.get("/returns", async (request) => {
      const session = request.session;
      const promised = session.save();
      const called = await new Promise<unknown>((resolve) => resolve(session.save(() => undefined)));
      await promised;
      return { promise: promised instanceof Promise, callback: called === undefined };
    }));
    expect(JSON.parse((await app.inject({ url: "/returns" })).body)).toEqual({ promise: true, callback: true });
  });

  it("cookie as a function of the request: the attributes of each request's cookie, with the name option", async () => {
    const app = await build({
      name: "app.sid",
      cookie: (request) => ({ maxAge: request.headers["x-remember"] === "1" ? 3_600_000 : null, sameSite: "strict" }),
    });
    const remembered = await app.inject({ method: "POST", url: "/login", headers: { "x-remember": "1" } });
    expect(([] as string[]).concat(remembered.headers["set-cookie"] as string[])[1]).toMatch(/^app\.sid=s%3A[^;]+; Max-Age=3600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    const plain = await app.inject({ method: "POST", url: "/login" });
    const line = ([] as string[]).concat(plain.headers["set-cookie"] as string[])[1]!;
    expect(line).toMatch(/^app\.sid=s%3A[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
    const me = await app.inject({ url: "/me", headers: { cookie: line.split(";")[0]! } });
    expect(JSON.parse(me.body).userId).toBe("u1");
  });

  it("request.sessionStore is the store option as given, the default MemoryStore without one", async () => {
    const store = new MemoryStore();
    const probe = (app: FastifyInstance): void => void app.get("/store", async (request) => ({ given: request.sessionStore === store, memory: request.sessionStore instanceof MemoryStore }));
    const withStore = await build({ store }, {}, probe);
    expect(JSON.parse((await withStore.inject({ url: "/store" })).body)).toEqual({ given: true, memory: true });
    const withDefault = await build({}, {}, probe);
    expect(JSON.parse((await withDefault.inject({ url: "/store" })).body)).toEqual({ given: false, memory: true });
  });

  it.each([
    [{ secret: undefined }, /secret/],
    [{ genid: "x" }, /genid option must be a function/],
    [{ store: { get: 1 } }, /store option/],
    [{ cookiePrefix: "" }, /cookiePrefix option is not supported/],
    [{ algorithm: "sha512" }, /algorithm option is not supported/],
    [{ secret: { sign: (v: string) => v, unsign: (v: string) => ({ valid: true, value: v }) } }, /custom signer is not supported/],
  ])("refuses %j at register time", async (bad, message) => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(cloakroom, { secret: SECRET, ...(bad as object) } as FastifySessionOptions).ready()).rejects.toThrow(message);
  });
});
