/**
 * What the cloakroom/express test files share (express*.test.ts): the app exercising express-session's API surface,
 * a listener whose servers close after the file, and cookie helpers. Importing this module registers that afterAll.
 */
import http from "node:http";
import { createRequire } from "node:module";
import type express from "express";
import type request from "supertest";
import { afterAll } from "vitest";
import session, { type SessionOptions } from "cloakroom/express";

const require = createRequire(import.meta.url);
export const express4 = require("express4") as typeof express;
// The real express-session 1.19, to compare behaviour side by side.
export const expressSession = require("express-session") as ((options: object) => express.RequestHandler) & { MemoryStore: new () => object };

export const SECRET = "express-adapter-test-secret-0123456789";
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

export type Req = express.Request & { session: Record<string, unknown> & { [k: string]: unknown } };

/** An app exercising the express-session API surface. */
export function buildApp(make: typeof express, options: Partial<SessionOptions> = {}) {
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

export async function listen(app: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

export function cookieOf(res: request.Response, name = "sid"): string {
  const line = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(res.headers["set-cookie"])}`);
  return line.split(";")[0]!;
}
