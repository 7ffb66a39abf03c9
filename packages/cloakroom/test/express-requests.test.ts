/**
 * cloakroom/express across requests: no lost updates between concurrent requests, per-request options, and a failing
 * store (503, never anonymous). Shared set-up: express-helpers.ts.
 */
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "cloakroom";
import session, { type SessionOptions } from "cloakroom/express";
import { SECRET, type Req, buildApp, listen, cookieOf, expressSession } from "./express-helpers.js";

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
