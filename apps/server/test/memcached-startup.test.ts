/**
 * SESSION_STORE=memcached with a memcached that does not answer: start-up fails within seconds with one line, instead
 * of hanging (memcache-client connects lazily, and without a connect timeout it waits for the OS, minutes).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./outage-servers.js";

const dataDir = mkdtempSync(join(tmpdir(), "cloakroom-memcached-startup-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Run `npm start`'s entry with MEMCACHED_URL set; resolve its exit status, stderr and how long it took. */
function start(memcachedUrl: string): Promise<{ status: number | null; stderr: string; ms: number }> {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", main], {
    env: { PATH: process.env.PATH ?? "", SESSION_STORE: "memcached", MEMCACHED_URL: memcachedUrl, PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent" },
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += String(chunk)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  return new Promise((resolve) => {
    child.on("exit", (status) => {
      clearTimeout(killer);
      resolve({ status, stderr, ms: Date.now() - started });
    });
  });
}

describe("SESSION_STORE=memcached when memcached is unreachable", () => {
  it("a closed port: exits 1 within seconds with one line naming MEMCACHED_URL", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const { status, stderr, ms } = await start(`127.0.0.1:${port}`);
    expect(status).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Cloakroom failed to start: Memcached at 127\\.0\\.0\\.1:${port} is unreachable \\(MEMCACHED_URL\\) \\(.*ECONNREFUSED.*\\)$`));
    expect(ms).toBeLessThan(30_000); // tsx start-up included; the probe itself fails in milliseconds
  });

  it("a server that accepts but never answers: exits 1 within the client's timeouts", { timeout: 60_000 }, async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const { status, stderr } = await start(`127.0.0.1:${port}`);
      expect(status).toBe(1);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(new RegExp(`^Cloakroom failed to start: Memcached at 127\\.0\\.0\\.1:${port} is unreachable`));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
