/**
 * cloakroom/express against Express 5 and Express 4: the express-session API surface, a bare http.createServer
 * handler, compatibility with express-session's cookies and Store, and the response waiting for the session write.
 * Shared set-up: express-helpers.ts.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "cloakroom";
import session, { MemoryStore as ExpressMemoryStore, Store } from "cloakroom/express";
import { SECRET, type Req, buildApp, listen, cookieOf, express4, expressSession } from "./express-helpers.js";

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
