import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresUserRepository } from "../src/users/postgres.js";
import { SqliteUserRepository } from "../src/users/sqlite.js";
import type { UserRepository } from "../src/users/types.js";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";

function describeRepository(name: string, open: () => Promise<{ users: UserRepository; close: () => Promise<void> } | null>): void {
  describe(`${name} UserRepository`, () => {
    let users: UserRepository | null = null;
    let close: () => Promise<void> = async () => {};
    beforeAll(async () => {
      const opened = await open();
      if (opened) ({ users, close } = opened);
    });
    afterAll(() => close());

    it("creates, finds by email (any case) and id; a second account with the same email is refused", async (ctx) => {
      if (!users) return ctx.skip();
      const created = await users.createUser({ email: "a@example.com", passwordHash: "$argon2id$x" });
      expect(created).toMatchObject({ email: "a@example.com", disabled: false });
      expect(await users.findUserByEmail("A@EXAMPLE.COM")).toMatchObject({ id: created!.id });
      expect(await users.findUserById(created!.id)).toMatchObject({ email: "a@example.com" });
      expect(await users.createUser({ email: "A@example.com", passwordHash: "other" })).toBeNull();
      expect(await users.findUserByEmail("missing@example.com")).toBeNull();
    });

    it("updates the hash and the disabled flag; false for a missing id", async (ctx) => {
      if (!users) return ctx.skip();
      const u = await users.createUser({ email: "b@example.com", passwordHash: "h1" });
      expect(await users.updatePasswordHash(u!.id, "h2")).toBe(true);
      expect(await users.setUserDisabled(u!.id, true)).toBe(true);
      expect(await users.findUserById(u!.id)).toMatchObject({ passwordHash: "h2", disabled: true });
      expect(await users.updatePasswordHash("nope", "h")).toBe(false);
      expect(await users.setUserDisabled("nope", true)).toBe(false);
      expect((await users.listUsers()).map((x) => x.email)).toEqual(["a@example.com", "b@example.com"]);
    });

    it("treats hostile input as data", async (ctx) => {
      if (!users) return ctx.skip();
      expect(await users.findUserByEmail("' OR 1=1 --")).toBeNull();
      expect(await users.findUserById("%")).toBeNull();
    });
  });
}

describeRepository("SQLite", async () => {
  const db = new Database(":memory:");
  const users = new SqliteUserRepository({ database: db });
  await users.migrate();
  await users.migrate();
  return { users, close: async () => void db.close() };
});

describeRepository("PostgreSQL", async () => {
  if (!(await postgresReachable())) return null;
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const table = `users_${uniqueSuffix()}`.toLowerCase();
  const users = new PostgresUserRepository({ pool, tableName: table });
  await users.migrate();
  await users.migrate();
  return {
    users,
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    },
  };
});

describe("PostgreSQL migrate()", () => {
  it("several instances migrating one fresh table at once all succeed (no CREATE TABLE race)", async (ctx) => {
    if (!(await postgresReachable())) return ctx.skip();
    const table = `users_race_${uniqueSuffix()}`;
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 1 }));
    try {
      const results = await Promise.allSettled(pools.map((pool) => new PostgresUserRepository({ pool, tableName: table }).migrate()));
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      const users = new PostgresUserRepository({ pool: pools[0]!, tableName: table });
      expect(await users.createUser({ email: "race@example.com", passwordHash: "$argon2id$x" })).not.toBeNull();
    } finally {
      await pools[0]!.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});

describe("table names", () => {
  it("are restricted to SQL identifiers (TypeError naming the option)", () => {
    expect(() => new SqliteUserRepository({ database: new Database(":memory:"), tableName: "users; DROP TABLE x" })).toThrow(/tableName/);
  });
});
