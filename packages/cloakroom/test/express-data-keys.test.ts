/**
 * Data keys named like Object.prototype members through cloakroom/express, on every kind of store the engine meets
 * (its own MemoryStore, a SQLite store, an express-session store behind the legacy adapter): what an application can
 * actually do with them. `constructor`, `prototype` and `hasOwnProperty` are assigned like any key; `__proto__` can only
 * become data by Object.defineProperty (assigning it sets the prototype, in any JavaScript object), and a request body
 * holding it, copied key by key with defineProperty, stays data without touching the session's prototype.
 */
import { createRequire } from "node:module";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { MemoryStore, type SessionStore } from "cloakroom";
import session from "cloakroom/express";
import { SqliteStore } from "cloakroom/sqlite";

const require = createRequire(import.meta.url);
const expressSession = require("express-session") as { MemoryStore: new () => object };
const SECRET = "express-data-keys-test-secret-0123456789";
const HOSTILE = ["__proto__", "constructor", "prototype", "hasOwnProperty"];

type Bag = Record<string, unknown>;

function buildApp(store: SessionStore | object): express.Express {
  const app = express();
  app.use(express.json());
  app.use(session({ secret: SECRET, store: store as SessionStore, resave: false, saveUninitialized: false }));
  app.post("/assign", (req, res) => {
    const s = req.session as unknown as Bag;
    s["constructor"] = "c";
    s["prototype"] = { p: [1] };
    s["hasOwnProperty"] = "h";
    res.send("ok");
  });
  app.post("/copy-body", (req, res) => {
    // JSON.parse gives the body's "__proto__" as an own key; defineProperty copies it as data.
    for (const [key, value] of Object.entries(req.body as Bag)) {
      Object.defineProperty(req.session, key, { value, enumerable: true, writable: true, configurable: true });
    }
    res.send("ok");
  });
  app.post("/unset", (req, res) => {
    for (const key of HOSTILE) delete (req.session as unknown as Bag)[key];
    res.send("ok");
  });
  app.get("/read", (req, res) => {
    const s = req.session as unknown as Bag;
    const own = Object.fromEntries(HOSTILE.filter((key) => Object.hasOwn(s, key)).map((key) => [key, Object.getOwnPropertyDescriptor(s, key)!.value]));
    res.json({ own, methods: typeof req.session.save === "function" && typeof req.session.destroy === "function", polluted: ({} as Bag).polluted ?? null });
  });
  return app;
}

const stores: Array<[string, () => SessionStore | object]> = [
  ["MemoryStore", () => new MemoryStore()],
  ["SqliteStore", () => new SqliteStore()],
  ["express-session's MemoryStore (legacy adapter)", () => new expressSession.MemoryStore()],
];

describe.each(stores)("data keys named like Object.prototype members, through cloakroom/express on %s", (_name, makeStore) => {
  it("assigned constructor, prototype and hasOwnProperty are saved and come back as data on the next request", async () => {
    const agent = request.agent(buildApp(makeStore()));
    await agent.post("/assign").expect(200);
    const { body } = await agent.get("/read").expect(200);
    expect(body).toEqual({ own: { constructor: "c", prototype: { p: [1] }, hasOwnProperty: "h" }, methods: true, polluted: null });
  });

  it("a JSON body's __proto__ copied with defineProperty is saved as data; the prototype and the methods stay", async () => {
    const agent = request.agent(buildApp(makeStore()));
    await agent.post("/copy-body").send('{"__proto__":{"polluted":true},"constructor":"c"}').set("Content-Type", "application/json").expect(200);
    const { body } = await agent.get("/read").expect(200);
    // JSON.parse, because `{ __proto__: … }` in an object literal sets the prototype.
    expect(body).toEqual({ own: JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}'), methods: true, polluted: null });
    await agent.post("/unset").expect(200);
    expect((await agent.get("/read").expect(200)).body.own).toEqual({});
  });
});
