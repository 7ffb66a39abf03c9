import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { GOOD_PASSWORD, TEST_SECRET, api, loginViaApi, startTestServer, type TestServer } from "./helpers.js";

async function cli(argv: string[], env: Record<string, string>, stdinText = ""): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  stdin.end(stdinText);
  let out = "";
  let err = "";
  const stdout = new PassThrough().on("data", (c) => (out += String(c)));
  const stderr = new PassThrough().on("data", (c) => (err += String(c)));
  const code = await runCli(argv, env, { stdin, stdout, stderr });
  return { code, out, err };
}

describe("the cloakroom CLI, against the server's configuration", () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer();
    env = { DATA_DIR: server.dataDir, SESSION_SECRETS: TEST_SECRET, SESSION_STORE: "sqlite" };
  });
  afterAll(() => server.close());

  it("users add (password from stdin, policy applied) / list", async () => {
    expect((await cli(["users", "add", "cli@example.com"], env, "short\n")).code).toBe(1);
    const added = await cli(["users", "add", "CLI@example.com"], env, `${GOOD_PASSWORD}\n`);
    expect(added.code).toBe(0);
    expect(added.out).toContain("Added cli@example.com");
    const list = await cli(["users", "list"], env);
    expect(list.out).toMatch(/cli@example\.com\s+active/);
    await loginViaApi(server.app, "cli@example.com");
  });

  it("users disable revokes every session at once; enable lets the user back in", async () => {
    const a = await loginViaApi(server.app, "cli@example.com");
    const listed = await cli(["sessions", "list", "cli@example.com"], env);
    expect(listed.code).toBe(0);
    expect(listed.out.trim().split("\n").length).toBeGreaterThanOrEqual(2);
    const disabled = await cli(["users", "disable", "cli@example.com"], env);
    expect(disabled.out).toMatch(/Disabled cli@example\.com; revoked [1-9]\d* session/);
    expect((await api(a, "get", "/api/me")).status).toBe(401);
    expect((await cli(["sessions", "list", "cli@example.com"], env)).out).toContain("No live sessions");
    expect((await api(request(server.app), "post", "/api/login", { email: "cli@example.com", password: GOOD_PASSWORD })).status).toBe(401);
    await cli(["users", "enable", "cli@example.com"], env);
    await loginViaApi(server.app, "cli@example.com");
  });

  it("sessions revoke --key / --user / --all, sweep and stats", async () => {
    const a = await loginViaApi(server.app, "cli@example.com");
    const key = (await api(a, "get", "/api/me")).body.session.id as string;
    expect((await cli(["sessions", "revoke", "--key", key], env)).code).toBe(0);
    expect((await api(a, "get", "/api/me")).status).toBe(401);
    expect((await cli(["sessions", "revoke", "--key", key], env)).code).toBe(1);
    const b = await loginViaApi(server.app, "cli@example.com");
    expect((await cli(["sessions", "revoke", "--user", "cli@example.com"], env)).out).toMatch(/Revoked [1-9]/);
    expect((await api(b, "get", "/api/me")).status).toBe(401);
    const c = await loginViaApi(server.app, "cli@example.com");
    const stats = await cli(["sessions", "stats"], env);
    expect(stats.out).toMatch(/live sessions: [1-9]/);
    expect((await cli(["sessions", "revoke", "--all"], env)).code).toBe(0);
    expect((await api(c, "get", "/api/me")).status).toBe(401);
    expect((await cli(["sessions", "sweep"], env)).out).toMatch(/Removed \d+ expired/);
  });

  it("usage errors exit 2; a bad variable exits 1 naming it", async () => {
    expect((await cli(["users"], env)).code).toBe(2);
    const bad = await cli(["users", "list"], { ...env, SESSION_STORE: "nope" });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("SESSION_STORE must be one of");
  });

  it("bin/cloakroom.mjs runs the CLI through tsx", { timeout: 30_000 }, () => {
    const bin = fileURLToPath(new URL("../bin/cloakroom.mjs", import.meta.url));
    const result = spawnSync(process.execPath, [bin, "users", "list"], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("cli@example.com");
  });
});

describe("npm start", () => {
  it("starts on embedded SQLite with nothing set up, prints the URL and serves the login page", { timeout: 30_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cloakroom-start-"));
    const { spawn } = await import("node:child_process");
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "warn" };
    const child = spawn(process.execPath, ["--import", "tsx", main], { env, cwd: fileURLToPath(new URL("..", import.meta.url)) });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c) => {
          out += String(c);
          const m = /running at (http:\/\/\S+?)\/ /.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      const page = await fetch(`${url}/login`, { headers: { Accept: "text/html" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Log in");
      expect(fs.existsSync(path.join(dataDir, "session-secret"))).toBe(true);
      expect(fs.existsSync(path.join(dataDir, "cloakroom.db"))).toBe(true);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses to start in production without SESSION_SECRETS, with one line", { timeout: 30_000 }, () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", main], { env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATA_DIR: os.tmpdir(), PORT: "0" }, encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("Invalid configuration: SESSION_SECRETS is required when NODE_ENV=production (comma-separated, each at least 32 characters)");
  });
});
