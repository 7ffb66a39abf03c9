/**
 * cloakroom/express and hostile or secure cookies: no 500 and no store write for a bad cookie, and the __Host- cookie
 * over HTTPS behind a trusted proxy. Shared set-up: express-helpers.ts.
 */
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "cloakroom";
import session from "cloakroom/express";
import { type Req, buildApp, cookieOf } from "./express-helpers.js";

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
