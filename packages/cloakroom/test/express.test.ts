import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import express from "express";
import request from "supertest";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "cloakroom";
import session, { MemoryStore as ExpressMemoryStore, Store, type SessionOptions } from "cloakroom/express";

const require = createRequire(import.meta.url);
const express4 = require("express4") as typeof express;
// The real express-session 1.19, to compare behaviour side by side.
const expressSession = require("express-session") as ((options: object) => express.RequestHandler) & { MemoryStore: new () => object };

const SECRET = "express-adapter-test-secret-0123456789";
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

type Req = express.Request & { session: Record<string, unknown> & { [k: string]: unknown } };

/** An app exercising the express-session API surface. */
function buildApp(make: typeof express, options: Partial<SessionOptions> = {}) {
  const app = make();
  app.use(make.json());
  const middleware = session({ secret: SECRET, ...options });
  app.use(middleware);
  app.post("/login", (req, res) => {
    (req as Req).session.userId = String(req.body?.user ?? "u1");
    res.send("Logged in");
  });
  app.post("/set/:key", (req, res) => {
    (req as Req).session[req.params.key!] = req.params.key;
    res.send("ok");
  });
  app.get("/me", (req, res) => {
    const s = (req as Req).session;
    // express-session lists `cookie` among the keys too; the data keys are what these tests look at.
    res.json({ userId: s.userId ?? null, keys: Object.keys(s).filter((k) => k !== "cookie").sort() });
  });
  app.post("/logout", (req, res) => {
    req.session.destroy((err?: unknown) => (err ? res.status(500).end() : res.send("Logged out")));
  });
  app.post("/logout-promise", async (req, res) => {
    await req.session.destroy();
    res.send("Logged out");
  });
  app.post("/regenerate", (req, res) => {
    req.session.regenerate((err?: unknown) => {
      if (err) return res.status(500).end();
      (req as Req).session.fresh = true;
      res.send("regenerated");
    });
  });
  app.post("/save-then-redirect", (req, res) => {
    (req as Req).session.userId = "redirected";
    req.session.save(() => res.redirect("/me"));
  });
  app.post("/save-promise", async (req, res) => {
    (req as Req).session.saved = true;
    await req.session.save();
    res.send("saved");
  });
  app.post("/reload", async (req, res) => {
    await req.session.reload();
    res.send("reloaded");
  });
  app.post("/touch", (req, res) => {
    req.session.touch(() => res.send("touched"));
  });
  app.post("/rotate", async (req, res) => {
    await req.session.rotate();
    res.send("rotated");
  });
  app.post("/unset", (req, res) => {
    (req as unknown as { session: null }).session = null;
    res.send("unset");
  });
  app.get("/details", (req, res) => {
    const d = req.session.details;
    res.json(d ? { hasKey: typeof d.key === "string", persistent: d.persistent } : null);
  });
  return { app, middleware };
}

async function listen(app: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function cookieOf(res: request.Response, name = "sid"): string {
  const line = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(res.headers["set-cookie"])}`);
  return line.split(";")[0]!;
}

for (const [label, make] of [["Express 5", express], ["Express 4", express4]] as const) {
  describe(`cloakroom/express on ${label}`, () => {
    it("logs in with a rotated ticket, reads the session, and logs out (callback form)", async () => {
      const { app } = buildApp(make);
      const login = await request(app).post("/login").send({ user: "alice" });
      const cookie = cookieOf(login);
      expect(login.headers["set-cookie"]![0]).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(login.headers["cache-control"]).toBe("no-store");
      expect((await request(app).get("/me").set("Cookie", cookie)).body.userId).toBe("alice");
      const relogin = await request(app).post("/login").set("Cookie", cookie).send({ user: "alice" });
      expect(cookieOf(relogin)).not.toBe(cookie);
      expect((await request(app).get("/me").set("Cookie", cookie)).body.userId).toBeNull();
      const logout = await request(app).post("/logout").set("Cookie", cookieOf(relogin));
      expect(logout.text).toBe("Logged out");
      expect(logout.headers["set-cookie"]![0]).toMatch(/^sid=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/);
      expect((await request(app).get("/me").set("Cookie", cookieOf(relogin))).body.userId).toBeNull();
    });

    it("supports the Promise forms of destroy, save and reload", async () => {
      const { app } = buildApp(make);
      const cookie = cookieOf(await request(app).post("/login"));
      expect((await request(app).post("/save-promise").set("Cookie", cookie)).text).toBe("saved");
      expect((await request(app).get("/me").set("Cookie", cookie)).body.keys).toEqual(["saved", "userId"]);
      expect((await request(app).post("/reload").set("Cookie", cookie)).text).toBe("reloaded");
      expect((await request(app).post("/logout-promise").set("Cookie", cookie)).text).toBe("Logged out");
      expect((await request(app).get("/me").set("Cookie", cookie)).body.userId).toBeNull();
    });

    it("regenerate() replaces the session with a new, empty one", async () => {
      const { app } = buildApp(make);
      const cookie = cookieOf(await request(app).post("/login"));
      const res = await request(app).post("/regenerate").set("Cookie", cookie);
      const fresh = cookieOf(res);
      expect(fresh).not.toBe(cookie);
      expect((await request(app).get("/me").set("Cookie", fresh)).body.keys).toEqual(["fresh"]);
      expect((await request(app).get("/me").set("Cookie", cookie)).body.keys).toEqual([]);
    });

    it("save() before a redirect: the next request sees the session", async () => {
      const { app } = buildApp(make);
      const res = await request(app).post("/save-then-redirect");
      expect(res.status).toBe(302);
      expect((await request(app).get("/me").set("Cookie", cookieOf(res))).body.userId).toBe("redirected");
    });

    it("touch(), rotate() and details work", async () => {
      const { app } = buildApp(make);
      const cookie = cookieOf(await request(app).post("/login"));
      expect((await request(app).post("/touch").set("Cookie", cookie)).text).toBe("touched");
      expect((await request(app).get("/details").set("Cookie", cookie)).body).toEqual({ hasKey: true, persistent: false });
      const rotated = await request(app).post("/rotate").set("Cookie", cookie);
      expect(cookieOf(rotated)).not.toBe(cookie);
      expect((await request(app).get("/me").set("Cookie", cookieOf(rotated))).body.userId).toBe("u1");
    });

    it("unset: 'destroy' destroys the stored session when req.session is set to null", async () => {
      const store = new MemoryStore();
      const { app } = buildApp(make, { store, unset: "destroy" });
      const cookie = cookieOf(await request(app).post("/login"));
      await request(app).post("/unset").set("Cookie", cookie);
      expect(await store.count()).toBe(0);
    });
  });
}

describe("no lost updates between concurrent requests", () => {
  it("100 concurrent requests, each setting its own key on one session, leave all 100 keys (express-session keeps far fewer)", async () => {
    const ours = express();
    ours.use(session({ secret: SECRET }));
    ours.post("/login", (req, res) => {
      (req as Req).session.userId = "u1";
      res.send("Logged in");
    });
    ours.post("/set/:key", (req, res) => {
      setTimeout(() => {
        (req as Req).session[req.params.key!] = req.params.key;
        res.send("ok");
      }, 5);
    });
    ours.get("/me", (req, res) => res.json({ keys: Object.keys((req as Req).session).filter((k) => k !== "cookie") }));
    const theirs = express();
    theirs.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store: new expressSession.MemoryStore() }));
    theirs.post("/login", (req, res) => {
      (req as Req).session.userId = "u1";
      res.send("Logged in");
    });
    // Both apps wait 5 ms before writing, so the other requests load the same session meanwhile.
    theirs.post("/set/:key", (req, res) => {
      setTimeout(() => {
        (req as Req).session[req.params.key!] = req.params.key;
        res.send("ok");
      }, 5);
    });
    theirs.get("/me", (req, res) => res.json({ keys: Object.keys((req as Req).session).filter((k) => k.startsWith("k")) }));

    async function run(app: express.Express, cookieName: string): Promise<number> {
      const server = await listen(app);
      const cookie = cookieOf(await request(server).post("/login"), cookieName);
      await Promise.all(Array.from({ length: 100 }, (_, i) => request(server).post(`/set/k${i}`).set("Cookie", cookie).expect(200)));
      const me = await request(server).get("/me").set("Cookie", cookie);
      return (me.body.keys as string[]).filter((k) => k.startsWith("k")).length;
    }
    const kept = await run(ours, "sid");
    const keptByExpressSession = await run(theirs, "connect.sid");
    console.log(`100 concurrent single-key writes: cloakroom kept ${kept}/100, express-session 1.19 kept ${keptByExpressSession}/100`);
    expect(kept).toBe(100);
    expect(keptByExpressSession).toBeLessThan(100);
  });
});

describe("hostile cookies never give a 500 and never write to the store", () => {
  const store = new MemoryStore();
  const { app } = buildApp(express, { store });
  const other = session({ secret: "a-different-secret-0123456789abcdefgh" });
  const otherApp = express();
  otherApp.use(other);
  otherApp.post("/login", (req, res) => {
    (req as Req).session.userId = "x";
    res.send("ok");
  });

  it.each([
    ["a tampered signature", async () => `${(cookieOf(await request(app).post("/login"))).slice(0, -2)}xx`],
    ["a ticket signed with another secret", async () => cookieOf(await request(otherApp).post("/login"))],
    ["bad percent-encoding", async () => "sid=%E0%A4%A"],
    ["a 10 kB cookie", async () => `sid=${"a".repeat(10_240)}`],
    ["an unknown well-formed ticket", async () => "sid=s%3AunknownTicket000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["sid with no value", async () => "sid"],
  ])("%s → no session, 200", async (_, make) => {
    const cookie = await make();
    const before = await store.count();
    const res = await request(app).get("/me").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body.userId).toBeNull();
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await store.count()).toBe(before);
  });

  it("duplicate sid cookies: the same valid ticket twice is read, two different valid tickets are refused", async () => {
    const a = cookieOf(await request(app).post("/login").send({ user: "alice" }));
    const m = cookieOf(await request(app).post("/login").send({ user: "mallory" }));
    expect((await request(app).get("/me").set("Cookie", `${a}; ${a}`)).body.userId).toBe("alice");
    expect((await request(app).get("/me").set("Cookie", `${m}; ${a}`)).body.userId).toBeNull();
    expect((await request(app).get("/me").set("Cookie", [m, a])).body.userId).toBeNull();
  });

  it("a session id in the query string or a header is ignored", async () => {
    const cookie = cookieOf(await request(app).post("/login"));
    const value = cookie.slice(4);
    expect((await request(app).get(`/me?sid=${value}`)).body.userId).toBeNull();
    expect((await request(app).get("/me").set("X-Session-Id", value)).body.userId).toBeNull();
  });
});

describe("secure cookies", () => {
  it("over HTTPS behind a trusted proxy: __Host-sid with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain", async () => {
    const { app } = buildApp(express);
    app.set("trust proxy", 1);
    const res = await request(app).post("/login").set("X-Forwarded-Proto", "https");
    const line = res.headers["set-cookie"]![0]!;
    expect(line).toMatch(/^__Host-sid=s%3A/);
    expect(line).toMatch(/; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(line).not.toMatch(/Domain=/i);
    const me = await request(app).get("/me").set("X-Forwarded-Proto", "https").set("Cookie", line.split(";")[0]!);
    expect(me.body.userId).toBe("u1");
  });

  it("a spoofed X-Forwarded-Proto is ignored without trust proxy", async () => {
    const { app } = buildApp(express);
    const res = await request(app).post("/login").set("X-Forwarded-Proto", "https");
    expect(res.headers["set-cookie"]![0]).toMatch(/^sid=.*SameSite=Lax$/);
  });

  it("secure: true over plain HTTP sets no cookie and stores nothing", async () => {
    const store = new MemoryStore();
    const { app } = buildApp(express, { store, cookie: { secure: true } });
    const res = await request(app).post("/login");
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await store.count()).toBe(0);
  });

  it("proxy: true trusts X-Forwarded-Proto without Express's trust proxy", async () => {
    const { app } = buildApp(express, { proxy: true });
    const res = await request(app).post("/login").set("X-Forwarded-Proto", "https");
    expect(res.headers["set-cookie"]![0]).toMatch(/^__Host-sid=/);
  });
});

describe("options", () => {
  it("cookie as a function of the request, name and maxAge", async () => {
    const { app } = buildApp(express, { name: "app.sid", cookie: () => ({ maxAge: 3600_000, sameSite: "strict" }) });
    const line = (await request(app).post("/login")).headers["set-cookie"]![0]!;
    expect(line).toMatch(/^app\.sid=s%3A.*Max-Age=3600;.*HttpOnly; SameSite=Strict$/);
  });

  it("genid makes the ticket", async () => {
    let n = 0;
    const { app } = buildApp(express, { genid: () => `custom-generated-id-${n++}-0123456789` });
    const cookie = cookieOf(await request(app).post("/login"));
    expect(decodeURIComponent(cookie)).toMatch(/^sid=s:custom-generated-id-0-0123456789\./);
  });

  it("rolling sends the cookie on every response", async () => {
    const { app } = buildApp(express, { rolling: true });
    const cookie = cookieOf(await request(app).post("/login"));
    expect((await request(app).get("/me").set("Cookie", cookie)).headers["set-cookie"]).toHaveLength(1);
  });

  it.each([
    [{ genid: "x" }, /genid option must be a function/],
    [{ unset: "maybe" }, /unset option/],
    [{ store: { get: 1 } }, /store option/],
  ])("refuses %j", (bad, message) => {
    expect(() => session({ secret: SECRET, ...(bad as object) } as SessionOptions)).toThrow(message);
  });
});

describe("when the store fails", () => {
  class FlakyStore extends MemoryStore {
    failing = false;
    override get(key: string) {
      return this.failing ? Promise.reject(new Error("ECONNREFUSED")) : super.get(key);
    }
    // A failing store has nothing at hand either: every read goes to get().
    override peek(key: string) {
      return this.failing ? undefined : super.peek(key);
    }
    override create(key: string, record: Parameters<MemoryStore["create"]>[1]) {
      return this.failing ? Promise.reject(new Error("ECONNREFUSED")) : super.create(key, record);
    }
  }

  it("a request with a session cookie gets 503 (never anonymous); one without still runs", async () => {
    const store = new FlakyStore();
    const { app } = buildApp(express, { store });
    app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).send(err.status === 503 ? "Service Unavailable" : "error");
    });
    const cookie = cookieOf(await request(app).post("/login"));
    store.failing = true;
    const res = await request(app).get("/me").set("Cookie", cookie);
    expect([res.status, res.text]).toEqual([503, "Service Unavailable"]);
    expect((await request(app).get("/me")).status).toBe(200);
  });

  it("a failed commit reaches the app's error handler as a 503, with none of the route's headers or cookie", async () => {
    const store = new FlakyStore();
    const { app } = buildApp(express, { store });
    app.use((err: { status?: number; expose?: boolean }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).send(err.expose ? "Service Unavailable" : "error");
    });
    store.failing = true;
    const res = await request(app).post("/login");
    expect(res.status).toBe(503);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.text).toBe("Service Unavailable");
  });

  it("without an error handler of the app's, Express's own answers 503", async () => {
    const store = new FlakyStore();
    const { app } = buildApp(express, { store });
    store.failing = true;
    const res = await request(app).post("/login");
    expect(res.status).toBe(503);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

describe("a bare http.createServer handler", () => {
  it("works without Express", async () => {
    const middleware = session({ secret: SECRET });
    const server = await listen((req, res) => {
      middleware(req, res, (err?: unknown) => {
        if (err) {
          res.statusCode = 503;
          return res.end();
        }
        // A bare IncomingMessage has no typed `session`: raw-http users read it like this.
        const data = (req as unknown as { session: Record<string, unknown> }).session;
        if (req.url === "/login") data.userId = "raw";
        res.end(String(data.userId ?? "anonymous"));
      });
    });
    const login = await request(server).get("/login");
    expect(login.text).toBe("raw");
    expect((await request(server).get("/").set("Cookie", cookieOf(login))).text).toBe("raw");
    expect((await request(server).get("/")).text).toBe("anonymous");
  });
});

describe("compatibility with express-session", () => {
  it("accepts a cookie that express-session 1.19 signed, with its store and secret", async () => {
    const shared = new expressSession.MemoryStore();
    const before = express();
    before.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store: shared }));
    before.post("/login", (req, res) => {
      (req as Req).session.userId = "legacy-user";
      res.send("ok");
    });
    const cookie = cookieOf(await request(before).post("/login"), "connect.sid");

    const after = express();
    after.use(session({ secret: SECRET, name: "connect.sid", store: shared as never }));
    after.get("/me", (req, res) => res.json({ userId: (req as Req).session.userId ?? null }));
    expect((await request(after).get("/me").set("Cookie", cookie)).body.userId).toBe("legacy-user");
  });

  it("exports Store as express-session does: callable with Store.call(this), an EventEmitter", () => {
    function LegacyStyleStore(this: object) {
      Store.call(this);
    }
    Object.setPrototypeOf(LegacyStyleStore.prototype, Store.prototype);
    const instance = new (LegacyStyleStore as unknown as new () => { on: unknown; emit: unknown; load: unknown })();
    expect(typeof instance.on).toBe("function");
    expect(typeof instance.load).toBe("function");
    expect(session.Store).toBe(Store);
    expect(session.MemoryStore).toBe(ExpressMemoryStore);
    expect(new session.MemoryStore()).toBeInstanceOf(Store);
  });
});

describe("listening", () => {
  it("the response is not sent before the session is written (no redirect race)", async () => {
    const { app } = buildApp(express);
    const server = await listen(app);
    const { port } = server.address() as AddressInfo;
    const login = await fetch(`http://127.0.0.1:${port}/login`, { method: "POST", redirect: "manual" });
    const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
    const me = await fetch(`http://127.0.0.1:${port}/me`, { headers: { cookie } });
    expect(((await me.json()) as { userId: string }).userId).toBe("u1");
  });
});
