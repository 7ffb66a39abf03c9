/**
 * Whether cloakroom/express sees a request as HTTPS (express-session's issecure with `proxy` unset reads Express's
 * `req.secure`). The middleware answers untrusted peers itself from the app's trust function; these are the cases
 * where the answer must still be Express's: a trusted proxy set on a mounted sub-app only, a trust function, and an
 * app that overrides `req.secure` or `req.protocol`. Each is compared with express-session on the same app.
 */
import { createRequire } from "node:module";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import session from "cloakroom/express";

const require = createRequire(import.meta.url);
const express4 = require("express4") as typeof express;
const expressSession = require("express-session") as (options: object) => express.RequestHandler;
const SECRET = "express-secure-test-secret-0123456789";

type Middleware = (options: object) => express.RequestHandler;
type Configure = (app: express.Express) => void;

/** `POST /login` (or `/sub/login` in a mounted sub-app) under `middleware`, the app configured by `configure`. */
function app(make: typeof express, middleware: Middleware, configure: Configure, mounted = false): express.Express {
  const root = make();
  const target = mounted ? make() : root;
  configure(target);
  // secure: true, so the answer is visible: a Secure cookie is only set on a request seen as HTTPS.
  target.use(middleware({ secret: SECRET, resave: false, saveUninitialized: false, cookie: { secure: true } }));
  target.post("/login", (req, res) => {
    (req as unknown as { session: { userId?: string } }).session.userId = "u1";
    res.send("ok");
  });
  if (mounted) root.use("/sub", target);
  return root;
}

/** Whether the login response set a (Secure) session cookie, i.e. the middleware saw HTTPS. */
async function sawHttps(server: express.Express, path: string, forwarded: string | null): Promise<boolean> {
  const req = request(server).post(path);
  if (forwarded !== null) req.set("X-Forwarded-Proto", forwarded);
  const res = await req;
  const lines = res.headers["set-cookie"] as unknown as string[] | undefined;
  return (lines ?? []).some((line) => /; Secure/.test(line));
}

const cases: { name: string; configure: Configure; mounted?: boolean; forwarded: string | null; https: boolean }[] = [
  { name: "default trust proxy: a spoofed X-Forwarded-Proto is ignored", configure: () => {}, forwarded: "https", https: false },
  { name: "trust proxy on the app: X-Forwarded-Proto counts", configure: (a) => a.set("trust proxy", true), forwarded: "https", https: true },
  { name: "trust proxy on the app, X-Forwarded-Proto: http", configure: (a) => a.set("trust proxy", true), forwarded: "http", https: false },
  { name: "trust proxy set on a mounted sub-app only", configure: (a) => a.set("trust proxy", "loopback"), mounted: true, forwarded: "https", https: true },
  { name: "a trust function that trusts the loopback peer", configure: (a) => a.set("trust proxy", (addr: string) => addr.includes("127.0.0.1")), forwarded: "https", https: true },
  { name: "a trust function that trusts nobody", configure: (a) => a.set("trust proxy", () => false), forwarded: "https", https: false },
  {
    name: "an app that overrides req.secure",
    configure: (a) => Object.defineProperty(a.request, "secure", { configurable: true, get: () => true }),
    forwarded: null,
    https: true,
  },
  {
    name: "an app that overrides req.protocol",
    configure: (a) => Object.defineProperty(a.request, "protocol", { configurable: true, get: () => "https" }),
    forwarded: null,
    https: true,
  },
];

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("request security as express-session reads it (%s)", (_label, make) => {
  it.each(cases)("$name", async ({ configure, mounted, forwarded, https }) => {
    const path = mounted ? "/sub/login" : "/login";
    const theirs = await sawHttps(app(make, expressSession, configure, mounted), path, forwarded);
    const ours = await sawHttps(app(make, session as unknown as Middleware, configure, mounted), path, forwarded);
    expect(theirs).toBe(https);
    expect(ours).toBe(theirs);
  });
});
