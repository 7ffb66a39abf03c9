import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { runStoreContract } from "cloakroom/testing";
import { SqliteStore } from "../src/stores/sqlite.js";
import type { SqliteStoreOptions } from "../src/stores/sqlite.js";
import type { SessionRecord } from "../src/core/types.js";
import { uniqueSuffix } from "./servers.js";

const dir = mkdtempSync(join(tmpdir(), `cloakroom-sqlite-${uniqueSuffix()}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One file per namespace; each call opens a new SqliteStore, so "two handles" are two connections to one file.
runStoreContract("SqliteStore", {
  capabilities: { listByUser: true, nativeTtl: false, count: true },
  create: ({ namespace, now }) => new SqliteStore({ path: join(dir, `${namespace}.db`), tableName: `s_${namespace}`, now }),
});

const HOUR = 3_600_000;
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const storeSource = new URL("../src/stores/sqlite.ts", import.meta.url).href;

function record(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: "u1",
    data: { userId: "u1", cart: ["a"] },
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + HOUR,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: null,
    version: 0,
    meta: { ip: "203.0.113.1", userAgent: "test" },
    ...overrides,
  };
}

/**
 * A child process running the store from source (through tsx). Modes:
 * - `kill <path> <key> <recordJson>`: create + patch, print "committed", then wait to be killed.
 * - `patch <path> <key> <prefix> <n>`: print "ready", wait for a line on stdin, then patch n distinct keys.
 */
const CHILD = `
import { SqliteStore } from ${JSON.stringify(storeSource)};
import { once } from "node:events";
const [mode, path, key, a, b] = process.argv.slice(2);
const store = new SqliteStore({ path, sweepInterval: 0 });
if (mode === "kill") {
  await store.create(key, JSON.parse(a));
  if (!(await store.patch(key, { set: { afterPatch: true } }))) throw new Error("patch failed");
  process.stdout.write("committed\\n");
  setInterval(() => {}, 60_000);
} else {
  process.stdout.write("ready\\n");
  await once(process.stdin, "data");
  for (let i = 0; i < Number(b); i++) {
    if (!(await store.patch(key, { set: { [a + i]: i } }))) throw new Error("patch " + i + " failed");
  }
  await store.close();
  process.stdout.write("done\\n");
}
`;

function spawnChild(args: string[]): ReturnType<typeof spawn> {
  const script = join(dir, "child.mts");
  writeFileSync(script, CHILD);
  return spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
}

/** Resolve when the child prints `line`; reject with its stderr if it exits first. */
function waitForLine(child: ReturnType<typeof spawn>, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split("\n").includes(line)) resolve();
    });
    child.once("exit", (code, signal) => reject(new Error(`child exited (${code ?? signal}) before "${line}": ${err}`)));
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

describe("SqliteStore", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  function open(options: SqliteStoreOptions): SqliteStore {
    const store = new SqliteStore(options);
    cleanups.push(() => store.close());
    return store;
  }
  function rawDatabase(path: string): Database.Database {
    const db = new Database(path);
    cleanups.push(() => db.close());
    return db;
  }
  let fileCounter = 0;
  const newFile = (): string => join(dir, `t${++fileCounter}.db`);

  describe("durability", () => {
    it("a write that resolved survives a SIGKILL right after it", async () => {
      const path = newFile();
      const key = "killed-after-commit";
      const expected = record(Date.now(), { data: { userId: "u1", payload: "x".repeat(5000) } });
      const child = spawnChild(["kill", path, key, JSON.stringify(expected)]);
      cleanups.push(() => child.kill("SIGKILL"));
      await waitForLine(child, "committed");
      child.kill("SIGKILL");
      expect(await exitOf(child)).toEqual({ code: null, signal: "SIGKILL" });

      // The commit was only in the WAL (no checkpoint, no clean close): reopening must replay it.
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
      const store = open({ path, sweepInterval: 0 });
      expect(await store.get(key)).toStrictEqual({
        ...expected,
        data: { ...expected.data, afterPatch: true },
        version: 1,
      });
    });

    it("opens files in WAL mode", () => {
      const path = newFile();
      open({ path });
      expect(rawDatabase(path).pragma("journal_mode", { simple: true })).toBe("wal");
    });
  });

  describe("concurrency across processes", () => {
    it("patches of distinct keys from two processes on one file all survive", async () => {
      const path = newFile();
      const key = "shared";
      const store = open({ path, sweepInterval: 0 });
      await store.create(key, record(Date.now(), { data: {} }));
      const children = ["a", "b"].map((prefix) => spawnChild(["patch", path, key, prefix, "300"]));
      for (const child of children) cleanups.push(() => child.kill("SIGKILL"));
      await Promise.all(children.map((child) => waitForLine(child, "ready")));
      for (const child of children) child.stdin!.end("go\n");
      const exits = await Promise.all(children.map(exitOf));
      expect(exits).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);

      const stored = await store.get(key);
      expect(Object.keys(stored!.data)).toHaveLength(600);
      expect(stored!.data.a299).toBe(299);
      expect(stored!.data.b299).toBe(299);
      expect(stored!.version).toBe(600);
    });
  });

  describe("sweep", () => {
    it("removes 100,000 expired rows in batches and leaves 1,000 live ones", async () => {
      let now = Date.now();
      const db = new Database(newFile());
      db.pragma("journal_mode = WAL");
      cleanups.push(() => db.close());
      const store = open({ database: db, now: () => now, sweepInterval: 0 });

      // The store's own create, inside one transaction on the caller-owned handle: each create runs synchronously.
      const insertStarted = performance.now();
      db.exec("BEGIN");
      for (let i = 0; i < 100_000; i++) {
        await store.create(`expired-${i}`, record(now, { userId: `u${i % 5000}`, idleExpiresAt: now + 1000 }));
      }
      for (let i = 0; i < 1000; i++) await store.create(`live-${i}`, record(now, { userId: `u${i}` }));
      db.exec("COMMIT");
      const insertMs = performance.now() - insertStarted;
      now += 1000;

      // Two views of the stall: the longest gap between event-loop turns (≈ the slowest batch, since the sweep
      // yields with setImmediate too) and perf_hooks' event-loop delay histogram.
      const delay = monitorEventLoopDelay({ resolution: 1 });
      let worstGap = 0;
      let last = performance.now();
      let ticking = true;
      const tick = (): void => {
        const t = performance.now();
        worstGap = Math.max(worstGap, t - last);
        last = t;
        if (ticking) setImmediate(tick);
      };
      delay.enable();
      setImmediate(tick);
      const started = performance.now();
      const removed = await store.sweep();
      const sweepMs = performance.now() - started;
      ticking = false;
      delay.disable();

      console.log(
        `sqlite sweep: removed ${removed} in ${sweepMs.toFixed(0)} ms, worst batch ${worstGap.toFixed(1)} ms ` +
          `(event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms; batches of at most 1000, sized by time; insert of 101,000 took ${insertMs.toFixed(0)} ms)`,
      );
      expect(removed).toBe(100_000);
      expect(db.prepare("SELECT count(*) FROM cloakroom_sessions").pluck().get()).toBe(1000);
      expect(await store.count()).toBe(1000);
      for (let i = 0; i < 1000; i++) expect((await store.get(`live-${i}`))?.userId).toBe(`u${i}`);
    });

    it("yields to the event loop between batches of sweepBatchSize rows", async () => {
      let now = Date.now();
      const store = open({ path: newFile(), now: () => now, sweepBatchSize: 10, sweepInterval: 0 });
      for (let i = 0; i < 35; i++) await store.create(`k${i}`, record(now, { idleExpiresAt: now + 1 }));
      now += 1;
      let ranDuringSweep = false;
      setImmediate(() => (ranDuringSweep = true));
      expect(await store.sweep()).toBe(35);
      expect(ranDuringSweep).toBe(true);
    });

    it("starts with a batch of at most 64 rows, so even a large sweepBatchSize lets the event loop run early", async () => {
      let now = Date.now();
      const store = open({ path: newFile(), now: () => now, sweepBatchSize: 100_000, sweepInterval: 0 });
      for (let i = 0; i < 200; i++) await store.create(`k${i}`, record(now, { idleExpiresAt: now + 1 }));
      now += 1;
      let ranDuringSweep = false;
      setImmediate(() => (ranDuringSweep = true));
      expect(await store.sweep()).toBe(200);
      expect(ranDuringSweep).toBe(true);
    });

    it("runs by itself on the sweepInterval timer", async () => {
      let now = Date.now();
      const db = rawDatabase(newFile());
      const store = open({ database: db, now: () => now, sweepInterval: 20 });
      await store.create("expired", record(now, { idleExpiresAt: now + 1 }));
      await store.create("live", record(now));
      now += 1;
      await vi.waitFor(() => expect(db.prepare("SELECT key FROM cloakroom_sessions").pluck().all()).toEqual(["live"]), {
        timeout: 5000,
      });
    });
  });

  describe("schema and handles", () => {
    it("records the schema version of its table in cloakroom_meta", () => {
      const db = rawDatabase(newFile());
      open({ database: db, tableName: "sessions_v", sweepInterval: 0 });
      expect(db.prepare("SELECT table_name, schema_version FROM cloakroom_meta").all()).toEqual([
        { table_name: "sessions_v", schema_version: 1 },
      ]);
    });

    it("refuses a table created by a newer schema version", () => {
      const db = rawDatabase(newFile());
      open({ database: db, sweepInterval: 0 });
      db.prepare("UPDATE cloakroom_meta SET schema_version = 99").run();
      expect(() => new SqliteStore({ database: db, sweepInterval: 0 })).toThrow(/schema version 99/);
    });

    it("keeps two tables in one file apart", async () => {
      const db = rawDatabase(newFile());
      const [a, b] = [open({ database: db, tableName: "a" }), open({ database: db, tableName: "b" })];
      await a.create("k", record(Date.now(), { data: { side: "a" } }));
      await b.create("k", record(Date.now(), { data: { side: "b" } }));
      await a.clear();
      expect(await a.get("k")).toBeNull();
      expect((await b.get("k"))?.data.side).toBe("b");
    });

    it("does not close a caller-owned database", async () => {
      const db = rawDatabase(newFile());
      const store = new SqliteStore({ database: db });
      await store.create("k", record(Date.now()));
      await store.close();
      expect(db.open).toBe(true);
      expect(db.prepare("SELECT count(*) FROM cloakroom_sessions").pluck().get()).toBe(1);
    });

    it("rejects driver failures as Error('SqliteStore.<operation> failed: …') with the driver error as cause", async () => {
      const db = new Database(newFile());
      const store = open({ database: db });
      db.close();
      const failure = await store.get("k").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).cause).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe(`SqliteStore.get failed: ${((failure as Error).cause as Error).message}`);
    });

    it("rejects unserializable data as a TypeError, not as a driver failure", async () => {
      const store = open({});
      await store.create("k", record(Date.now()));
      await expect(store.patch("k", { set: { n: 1n } })).rejects.toThrow(TypeError);
      expect((await store.get("k"))?.version).toBe(0);
    });
  });

  describe("options", () => {
    it.each([
      [{ tableName: "1abc" }, /tableName/],
      [{ tableName: 'x"; DROP TABLE y; --' }, /tableName/],
      [{ tableName: "a".repeat(64) }, /tableName/],
      [{ sweepInterval: -1 }, /sweepInterval/],
      [{ sweepBatchSize: 0 }, /sweepBatchSize/],
      [{ sweepBatchSize: 2.5 }, /sweepBatchSize/],
      [{ path: "" }, /path/],
      [{ path: "x.db", database: {} as Database.Database }, /path option or the database option/],
      [{ database: {} as Database.Database }, /database/],
      [{ now: "soon" as unknown as () => number }, /now/],
    ])("rejects %o with a TypeError naming the option", (options, message) => {
      expect(() => new SqliteStore(options)).toThrow(TypeError);
      expect(() => new SqliteStore(options)).toThrow(message);
    });

    it("wraps a file it cannot open as an Error with cause", () => {
      expect(() => new SqliteStore({ path: join(dir, "missing-dir", "x.db") })).toThrow(/SqliteStore: could not open/);
    });
  });
});
