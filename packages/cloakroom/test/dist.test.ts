/**
 * The built package as users get it: `import` from an ES module and `require` from CommonJS, resolved through
 * node_modules/cloakroom exactly as an app at the repository root would (npm install builds dist/ via `prepare`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const built = existsSync(`${root}packages/cloakroom/dist/express.js`);
const scratch = mkdtempSync(`${root}.dist-test-`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
if (!built) {
  if (process.env.CI === "true") throw new Error("packages/cloakroom/dist is missing: `npm test` builds it first");
  console.warn("SKIPPED built-package tests: packages/cloakroom/dist is missing (run `npm run build`)");
}

function run(file: string, source: string): string {
  const path = `${scratch}/${file}`;
  writeFileSync(path, source);
  return execFileSync(process.execPath, [path], { cwd: root, encoding: "utf8" }).trim();
}

const flow = `
  const app = express();
  app.use(session({ secret: "dist-test-secret-0123456789abcdefghij" }));
  app.get("/login", (req, res) => { req.session.userId = "u"; res.send("in"); });
  app.get("/me", (req, res) => res.send(String(req.session.userId ?? "anonymous")));
  const server = app.listen(0, "127.0.0.1", async () => {
    const base = "http://127.0.0.1:" + server.address().port;
    const login = await fetch(base + "/login");
    const cookie = login.headers.getSetCookie()[0].split(";")[0];
    const me = await fetch(base + "/me", { headers: { cookie } });
    console.log(typeof session, typeof session.Store, typeof session.MemoryStore, await me.text());
    server.close();
  });`;

describe.skipIf(!built)("the built package", () => {
  it("works from an ES module: import session from \"cloakroom/express\"", () => {
    const out = run("esm.mjs", `import express from "express"; import session, { MemoryStore } from "cloakroom/express"; import { SessionManager } from "cloakroom";\n${flow}`);
    expect(out).toBe("function function function u");
  });

  it("works from CommonJS: const session = require(\"cloakroom/express\")", () => {
    const out = run("cjs.cjs", `const express = require("express"); const session = require("cloakroom/express"); const { SessionManager } = require("cloakroom");\n${flow}`);
    expect(out).toBe("function function function u");
  });
});

const fastifyFlow = `
  const app = Fastify();
  await app.register(cloakroom, { secret: "dist-test-secret-0123456789abcdefghij" });
  app.get("/login", async (request) => { request.session.userId = "u"; return "in"; });
  app.get("/me", async (request) => String(request.session.userId ?? "anonymous"));
  const cookie = String((await app.inject({ url: "/login" })).headers["set-cookie"]).split(";")[0];
  console.log(typeof app.sessionManager.listUserSessions, (await app.inject({ url: "/me", headers: { cookie } })).body);
  await app.close();`;

const honoFlow = `
  const app = new Hono();
  app.use(session({ secret: "dist-test-secret-0123456789abcdefghij" }));
  app.get("/login", (c) => { c.var.session.userId = "u"; return c.text("in"); });
  app.get("/me", (c) => c.text(String(c.get("session").userId ?? "anonymous")));
  const cookie = (await app.request("/login")).headers.getSetCookie()[0].split(";")[0];
  console.log(typeof session, await (await app.request("/me", { headers: { cookie } })).text());`;

describe.skipIf(!built)("the built package's Fastify and Hono adapters", () => {
  it("cloakroom/fastify from an ES module and from CommonJS", () => {
    expect(run("fastify.mjs", `import Fastify from "fastify"; import cloakroom from "cloakroom/fastify";\n${fastifyFlow}`)).toBe("function u");
    expect(run("fastify.cjs", `const Fastify = require("fastify"); const cloakroom = require("cloakroom/fastify");\n(async () => {${fastifyFlow}})();`)).toBe("function u");
  });

  it("cloakroom/hono from an ES module and from CommonJS", () => {
    expect(run("hono.mjs", `import { Hono } from "hono"; import { session } from "cloakroom/hono";\n${honoFlow}`)).toBe("function u");
    expect(run("hono.cjs", `const { Hono } = require("hono"); const { session } = require("cloakroom/hono");\n(async () => {${honoFlow}})();`)).toBe("function u");
  });
});
