/**
 * PostgresStore's pinned connection (src/stores/postgres-lane.ts) against the real server: a statement goes through
 * one checked-out client when it is free, the pool otherwise. What must hold: a lost pinned connection is replaced,
 * close() waits for a statement on it, and it never keeps a finished process alive nor lets one exit early.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/core/types.js";
import { PostgresStore } from "../src/stores/postgres.js";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "./servers.js";

const reachable = await postgresReachable();
const schema = `cloakroom_lane_${uniqueSuffix()}`;
const HOUR = 3_600_000;
const builtStore = fileURLToPath(new URL("../dist/postgres.js", import.meta.url));

function recordAt(now: number, data: Record<string, unknown> = {}): SessionRecord {
  return {
    userId: null,
    data,
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + HOUR,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: null,
    version: 0,
    meta: {},
  };
}

describe.skipIf(!reachable)("PostgresStore's pinned connection", () => {
  let admin: pg.Pool;
  const stores: PostgresStore[] = [];

  function openStore(tableName: string): PostgresStore {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, tableName, poolSize: 3, sweepInterval: 0 });
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await admin.query(`CREATE SCHEMA "${schema}"`);
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  it("keeps answering after the server ends every connection of the store", async () => {
    const store = openStore("terminated");
    await store.create("k", recordAt(Date.now(), { n: 1 }));
    for (let i = 0; i < 20; i += 1) await store.get("k");
    // Every backend whose last statement named this table is one of the store's (the pinned one included).
    const { rows } = await admin.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%"${schema}"."terminated"%`],
    );
    expect(rows.length).toBeGreaterThan(0);
    // A statement sent before the client has read the server's goodbye fails, as it would through the pool; the
    // connection is then replaced, so within a few attempts reads answer again.
    let answer: SessionRecord | null = null;
    for (let attempt = 0; attempt < 20 && answer === null; attempt += 1) answer = await store.get("k").catch(() => null);
    expect(answer?.data).toEqual({ n: 1 });
    const again = await Promise.all(Array.from({ length: 10 }, () => store.get("k")));
    expect(again.map((record) => record?.data)).toEqual(Array.from({ length: 10 }, () => ({ n: 1 })));
  });

  it("answers every one of many concurrent statements, beside the pinned one", async () => {
    const store = openStore("concurrent");
    const now = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.create(`k${i}`, recordAt(now, { i }))));
    const read = await Promise.all(Array.from({ length: 30 }, (_, i) => store.get(`k${i}`)));
    expect(read.map((record) => record?.data)).toEqual(Array.from({ length: 30 }, (_, i) => ({ i })));
  });

  it("close() waits for a statement still running on the pinned connection", async () => {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, tableName: "closing", poolSize: 3, sweepInterval: 0 });
    await store.create("k", recordAt(Date.now(), { n: 2 }));
    for (let i = 0; i < 5; i += 1) await store.get("k");
    const pending = store.get("k");
    await store.close();
    expect((await pending)?.data).toEqual({ n: 2 });
  });

  it.skipIf(!existsSync(builtStore))("lets an idle process exit, and keeps it alive while a read is pending", () => {
    // The built store in a child process that never calls close(): its last read must print, and the process must
    // then exit by itself (the pinned socket is unref'd between statements, ref'd while one runs).
    const script = `
      const { PostgresStore } = await import(${JSON.stringify(builtStore)});
      const store = new PostgresStore({ connectionString: ${JSON.stringify(DATABASE_URL)}, schema: ${JSON.stringify(schema)},
        tableName: "exiting", poolSize: 3, sweepInterval: 0 });
      const now = Date.now();
      await store.create("k", { userId: null, data: { n: 3 }, createdAt: now, touchedAt: now, idleExpiresAt: now + 3600000,
        absoluteExpiresAt: now + 86400000, cookieMaxAge: null, version: 0, meta: {} });
      for (let i = 0; i < 10; i += 1) await store.get("k");
      store.get("k").then((record) => console.log(JSON.stringify(record.data)));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('{"n":3}');
  });
});
