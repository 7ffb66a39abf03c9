/**
 * PostgresStore against the real server: the shared contract, then what only this backend has (batched sweep under
 * an advisory lock, timeouts, migrations, the on-disk encoding). Every table lives in one schema per run, dropped
 * at the end.
 */
import net from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionRecord } from "../src/core/types.js";
import { runStoreContract } from "../src/testing/index.js";
import { migrate, PostgresStore, type PostgresStoreOptions, type SweepReport } from "../src/stores/postgres.js";
import { advisoryLockId } from "../src/stores/postgres-schema.js";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "./servers.js";

const reachable = await postgresReachable();
const schema = `cloakroom_test_${uniqueSuffix()}`;
const HOUR = 3_600_000;

function recordAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    userId: null,
    data: {},
    createdAt: now,
    touchedAt: now,
    idleExpiresAt: now + HOUR,
    absoluteExpiresAt: now + 24 * HOUR,
    cookieMaxAge: null,
    version: 0,
    meta: {},
    ...overrides,
  };
}

describe.skipIf(!reachable)("PostgresStore", () => {
  let admin: pg.Pool;
  const stores: PostgresStore[] = [];
  let tableCounter = 0;

  /** A table name not used yet in this run's schema. */
  function freshTable(): string {
    tableCounter += 1;
    return `t${tableCounter}`;
  }

  /** A store on `options.tableName` (default: a fresh table) in this run's schema; closed in afterAll. */
  function openStore(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
    const store = new PostgresStore({
      connectionString: DATABASE_URL,
      schema,
      tableName: options.tableName ?? freshTable(),
      poolSize: 3,
      sweepInterval: 0,
      ...options,
    });
    stores.push(store);
    return store;
  }

  /** Insert `count` rows that expired an hour ago, in one statement (the store API would take minutes for 100k). */
  async function insertExpiredRows(tableName: string, count: number, now: number): Promise<void> {
    await admin.query(
      `INSERT INTO "${schema}"."${tableName}" (key_hash, key, user_id, data, created_at, touched_at, idle_expires_at,
         absolute_expires_at, expires_at, cookie_max_age, version, meta)
       SELECT sha256(convert_to('expired-' || i, 'UTF8')), 'expired-' || i, NULL, '{"n":1}', $2, $2, $2, $2, $2,
         NULL, 0, '{}'
       FROM generate_series(1, $1::int) AS i`,
      [count, now - HOUR],
    );
  }

  async function rowCount(tableName: string): Promise<number> {
    const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${tableName}"`);
    return Number(rows[0]?.n);
  }

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    await admin.query(`CREATE SCHEMA "${schema}"`);
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  // Every namespace of the contract suite is a table of this run's schema; two handles = two stores, two pools.
  runStoreContract("PostgresStore", {
    capabilities: { listByUser: true, nativeTtl: false, count: true },
    create: ({ namespace, now }) =>
      new PostgresStore({ connectionString: DATABASE_URL, schema, tableName: namespace, poolSize: 3, sweepInterval: 0, now }),
  });

  describe("beyond the contract", () => {
    it("patch() never moves expiry past absoluteExpiresAt, whatever idleExpiresAt it is given", async () => {
      let clock = Date.now();
      const store = openStore({ now: () => clock });
      await store.create("capped", recordAt(clock, { absoluteExpiresAt: clock + 2 * HOUR }));
      expect(await store.patch("capped", { idleExpiresAt: clock + 3 * HOUR })).toBe(true);
      clock += 2 * HOUR;
      expect(await store.get("capped")).toBeNull();
    });

    it("destroyByUser() also deletes the user's expired rows but counts only live sessions", async () => {
      const tableName = freshTable();
      const now = Date.now();
      const store = openStore({ tableName });
      await store.create("live", recordAt(now, { userId: "alice" }));
      await store.create("expired", recordAt(now - 2 * HOUR, { userId: "alice", idleExpiresAt: now - HOUR }));
      expect(await store.destroyByUser("alice")).toBe(1);
      expect(await rowCount(tableName)).toBe(0);
    });
  });

  describe("storage encoding", () => {
    it("stores ordinary strings verbatim and NUL-bearing ones escaped behind U+FDD0, returning both intact", async () => {
      const tableName = freshTable();
      const store = openStore({ tableName });
      const now = Date.now();
      const data = { plain: "readable", "nul\0key": "a\0b", lone: "\ud800" };
      await store.create("k\0\r\n*", recordAt(now, { userId: "u\0", data }));

      const { rows } = await admin.query<{ data: Record<string, string>; user_id: string; key: string }>(
        `SELECT data, user_id, key FROM "${schema}"."${tableName}"`,
      );
      expect(rows[0]?.data.plain).toBe("readable");
      expect(rows[0]?.data["\uFDD0nul\\0key"]).toBe("\uFDD0a\\0b");
      expect(rows[0]?.user_id).toBe("\uFDD0u\\0");
      expect((await store.get("k\0\r\n*"))?.data).toEqual(data);
      expect((await store.listByUser("u\0")).map((s) => s.key)).toEqual(["k\0\r\n*"]);
    });

    it("keeps a key that differs only by an unpaired surrogate apart from its U+FFFD look-alike", async () => {
      const store = openStore();
      const now = Date.now();
      await store.create("x\ud800", recordAt(now, { data: { which: "surrogate" } }));
      await store.create("x\ufffd", recordAt(now, { data: { which: "replacement" } }));
      expect((await store.get("x\ud800"))?.data).toEqual({ which: "surrogate" });
      expect((await store.get("x\ufffd"))?.data).toEqual({ which: "replacement" });
    });

    it("returns every time field exactly as given, fractions and an infinite absolute expiry included", async () => {
      const store = openStore();
      const now = Date.now() + 0.25;
      const record = recordAt(now, { absoluteExpiresAt: Infinity, cookieMaxAge: 1209.5 });
      await store.create("times", record);
      expect(await store.get("times")).toEqual(record);
    });
  });

  describe("sweep()", () => {
    it("removes 100,000 expired rows in batches and leaves 1,000 live rows untouched", { timeout: 120_000 }, async () => {
      const reports: SweepReport[] = [];
      const tableName = freshTable();
      const store = openStore({ tableName, onSweep: (report) => reports.push(report) });
      const now = Date.now();
      await store.count(); // creates the table
      await insertExpiredRows(tableName, 100_000, now);
      for (let chunk = 0; chunk < 10; chunk += 1) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            store.create(`live-${chunk * 100 + i}`, recordAt(now, { data: { i: chunk * 100 + i } })),
          ),
        );
      }
      expect(await rowCount(tableName)).toBe(101_000);

      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const removed = await store.sweep();
      delay.disable();

      expect(removed).toBe(100_000);
      // 100 full batches, then one that comes back empty and ends the loop.
      expect(reports).toEqual([expect.objectContaining({ removed: 100_000, batches: 101, skipped: false })]);
      expect(await rowCount(tableName)).toBe(1000);
      expect(await store.count()).toBe(1000);
      expect((await store.get("live-0"))?.data).toEqual({ i: 0 });
      expect((await store.get("live-999"))?.data).toEqual({ i: 999 });
      const report = reports[0] as SweepReport;
      console.log(
        `PostgresStore sweep: ${report.removed} rows in ${report.batches} batches of ≤1000, ` +
          `${report.durationMs.toFixed(0)} ms (${(report.durationMs / report.batches).toFixed(1)} ms/batch); ` +
          `worst event-loop stall ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
      );
    });

    it("resolves 0 and deletes nothing while another connection holds the table's sweep lock", async () => {
      const reports: SweepReport[] = [];
      const tableName = freshTable();
      const store = openStore({ tableName, onSweep: (report) => reports.push(report) });
      await store.count();
      await insertExpiredRows(tableName, 10, Date.now());
      const holder = await admin.connect();
      try {
        const lockId = advisoryLockId(`sweep:${schema}.${tableName}`);
        await holder.query("SELECT pg_advisory_lock($1::bigint)", [lockId]);
        expect(await store.sweep()).toBe(0);
        expect(reports[0]).toMatchObject({ skipped: true, batches: 0 });
        expect(await rowCount(tableName)).toBe(10);
        await holder.query("SELECT pg_advisory_unlock($1::bigint)", [lockId]);
      } finally {
        holder.release();
      }
      expect(await store.sweep()).toBe(10);
    });

    it("lets only one of two instances sweeping the same table at once do the work", async () => {
      const tableName = freshTable();
      const first = openStore({ tableName, sweepBatchSize: 500 });
      const second = openStore({ tableName, sweepBatchSize: 500 });
      await first.count();
      await insertExpiredRows(tableName, 20_000, Date.now());
      const removed = await Promise.all([first.sweep(), second.sweep()]);
      // Either the second was refused the lock, or it got it after the first finished and found nothing.
      expect(removed.sort((a, b) => a - b)).toEqual([0, 20_000]);
    });

    it("runs by itself on the sweepInterval timer", async () => {
      const tableName = freshTable();
      const store = openStore({ tableName, sweepInterval: 50 });
      await store.count();
      await insertExpiredRows(tableName, 5, Date.now());
      const deadline = Date.now() + 5000;
      while ((await rowCount(tableName)) > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await rowCount(tableName)).toBe(0);
    });
  });

  describe("when the database is unreachable or slow", () => {
    it("rejects get() at once with a cause when nothing listens on the port", async () => {
      const store = openStore({ connectionString: "postgres://postgres@127.0.0.1:1/test", connectionTimeout: 2000 });
      const started = Date.now();
      const error = await store.get("k").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^PostgresStore\.(migrate\(.*\)|get) failed: /);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it("rejects get() after connectionTimeout when the server accepts but never answers", async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const { port } = silent.address() as net.AddressInfo;
      try {
        const store = openStore({
          connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
          connectionTimeout: 300,
          createTable: false,
        });
        const started = Date.now();
        const error = await store.get("k").catch((e: unknown) => e);
        expect((error as Error).message).toMatch(/^PostgresStore\.get failed: /);
        expect((error as Error).cause).toBeInstanceOf(Error);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it("cancels a statement that waits longer than statementTimeout", async () => {
      const tableName = freshTable();
      const store = openStore({ tableName, statementTimeout: 300 });
      await store.create("k", recordAt(Date.now()));
      const locker = await admin.connect();
      try {
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE "${schema}"."${tableName}" IN ACCESS EXCLUSIVE MODE`);
        const error = await store.get("k").catch((e: unknown) => e);
        expect((error as Error).message).toMatch(/^PostgresStore\.get failed: /);
        expect(((error as Error).cause as { code?: string }).code).toBe("57014"); // query_canceled
      } finally {
        await locker.query("ROLLBACK");
        locker.release();
      }
      expect(await store.get("k")).not.toBeNull();
    });
  });

  describe("migrate()", () => {
    it("creates the table once and is a no-op afterwards", async () => {
      const location = { schema, tableName: "migrated_once" };
      expect(await migrate(admin, location)).toEqual({ version: 1, applied: [1] });
      expect(await migrate(admin, location)).toEqual({ version: 1, applied: [] });
      expect(await rowCount("migrated_once")).toBe(0);
    });

    it("applies the migration exactly once when several processes start together", async () => {
      const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }));
      try {
        const results = await Promise.all(pools.map((pool) => migrate(pool, { schema, tableName: "raced" })));
        expect(results.map((r) => r.applied).sort()).toEqual([[], [], [1]]);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });

    it("creates a missing schema", async () => {
      const freshSchema = `${schema}_new`;
      try {
        expect((await migrate(admin, { schema: freshSchema })).applied).toEqual([1]);
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${freshSchema}" CASCADE`);
      }
    });

    it("refuses a table of the same name that cloakroom did not create", async () => {
      await admin.query(`CREATE TABLE "${schema}".foreign_table (sid text)`);
      await expect(migrate(admin, { schema, tableName: "foreign_table" })).rejects.toThrow(/not created by cloakroom/);
    });

    it("with createTable: false, leaves a missing table missing and surfaces the error with its cause", async () => {
      const store = openStore({ createTable: false });
      const error = await store.count().catch((e: unknown) => e);
      expect(((error as Error).cause as { code?: string }).code).toBe("42P01"); // undefined_table
    });
  });

  describe("options", () => {
    const url = { connectionString: DATABASE_URL };
    it.each([
      ["a tableName with a dash", { ...url, tableName: "bad-name" }, /options\.tableName/],
      ["a schema with SQL in it", { ...url, schema: 'x"; DROP' }, /options\.schema/],
      ["a 55-character tableName", { ...url, tableName: "t".repeat(55) }, /options\.tableName/],
      ["no pool and no connectionString", {}, /options\.connectionString/],
      ["poolSize next to a pool", { pool: { query() {}, connect() {} }, poolSize: 5 }, /options\.poolSize/],
      ["a negative sweepInterval", { ...url, sweepInterval: -1 }, /options\.sweepInterval/],
      ["a zero sweepBatchSize", { ...url, sweepBatchSize: 0 }, /options\.sweepBatchSize/],
      ["a fractional statementTimeout", { ...url, statementTimeout: 1.5 }, /options\.statementTimeout/],
      ["a now that is not a function", { ...url, now: 5 }, /options\.now/],
    ])("rejects %s with a TypeError naming the option", (_case, options, message) => {
      expect(() => new PostgresStore(options as unknown as PostgresStoreOptions)).toThrow(TypeError);
      expect(() => new PostgresStore(options as unknown as PostgresStoreOptions)).toThrow(message);
    });

    it("uses a caller's pool without ending it on close()", async () => {
      const store = new PostgresStore({ pool: admin, schema, tableName: "borrowed", sweepInterval: 0 });
      await store.create("k", recordAt(Date.now()));
      await store.close();
      expect(await rowCount("borrowed")).toBe(1);
    });

    it("keeps the prepared statements of two tables apart when their stores share one pool", async () => {
      // A prepared statement belongs to a connection; a name shared by two tables' SELECTs would make pg refuse one.
      const shared = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
      const a = new PostgresStore({ pool: shared, schema, tableName: "shared_a", sweepInterval: 0 });
      const b = new PostgresStore({ pool: shared, schema, tableName: "shared_b", sweepInterval: 0 });
      const now = Date.now();
      await a.create("k", recordAt(now, { data: { table: "a" } }));
      await b.create("k", recordAt(now, { data: { table: "b" } }));
      expect((await a.get("k"))?.data).toEqual({ table: "a" });
      expect((await b.get("k"))?.data).toEqual({ table: "b" });
      await Promise.all([a.close(), b.close()]);
      await shared.end();
    });
  });
});
