import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresUserRepository } from "../src/users/postgres.js";
import { SqliteUserRepository } from "../src/users/sqlite.js";
import { PostgresTokenRepository } from "../src/users/tokens-postgres.js";
import { SqliteTokenRepository } from "../src/users/tokens-sqlite.js";
import type { TokenRepository } from "../src/users/tokens.js";
import type { UserRepository } from "../src/users/types.js";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";

interface Opened {
  users: UserRepository;
  tokens: TokenRepository;
  close: () => Promise<void>;
}

function describeRepository(name: string, open: () => Promise<Opened | null>): void {
  describe(`${name} UserRepository`, () => {
    let users: UserRepository | null = null;
    let tokens: TokenRepository | null = null;
    let close: () => Promise<void> = async () => {};
    beforeAll(async () => {
      const opened = await open();
      if (opened) ({ users, tokens, close } = opened);
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

    it("marks an address verified once (the first time is kept)", async (ctx) => {
      if (!users) return ctx.skip();
      const u = await users.createUser({ email: "v@example.com", passwordHash: "h" });
      expect(u?.emailVerifiedAt).toBeNull();
      expect(await users.markEmailVerified(u!.id)).toBe(true);
      const first = (await users.findUserById(u!.id))?.emailVerifiedAt;
      expect(first).toEqual(expect.any(Number));
      await new Promise((r) => setTimeout(r, 5));
      await users.markEmailVerified(u!.id);
      expect((await users.findUserById(u!.id))?.emailVerifiedAt).toBe(first);
      expect(await users.markEmailVerified("nope")).toBe(false);
    });

    it("tokens: live until expiry, used up once (atomically), replaced by a newer one, per purpose", async (ctx) => {
      if (!tokens) return ctx.skip();
      const now = 1_000_000;
      await tokens.replaceToken({ userId: "u1", purpose: "password_reset", tokenHash: "h1", expiresAt: now + 100, now });
      expect(await tokens.findToken("h1", "password_reset", now)).toBe("u1");
      expect(await tokens.findToken("h1", "verify_email", now)).toBeNull();
      expect(await tokens.findToken("h1", "password_reset", now + 100)).toBeNull();
      // A newer token kills the older one of the same purpose, not the other purpose's.
      await tokens.replaceToken({ userId: "u1", purpose: "verify_email", tokenHash: "v1", expiresAt: now + 100, now });
      await tokens.replaceToken({ userId: "u1", purpose: "password_reset", tokenHash: "h2", expiresAt: now + 100, now });
      expect(await tokens.findToken("h1", "password_reset", now)).toBeNull();
      expect(await tokens.findToken("v1", "verify_email", now)).toBe("u1");
      // Two concurrent uses: exactly one wins.
      const uses = await Promise.all([tokens.consumeToken("h2", "password_reset", now), tokens.consumeToken("h2", "password_reset", now)]);
      expect(uses.sort()).toEqual(["u1", null].sort());
      // An expired token is used up too, but yields nobody.
      await tokens.replaceToken({ userId: "u2", purpose: "password_reset", tokenHash: "h3", expiresAt: now + 10, now });
      expect(await tokens.consumeToken("h3", "password_reset", now + 10)).toBeNull();
      expect(await tokens.findToken("h3", "password_reset", now)).toBeNull();
      await tokens.deleteUserTokens("u1", "verify_email");
      expect(await tokens.findToken("v1", "verify_email", now)).toBeNull();
      expect(await tokens.consumeToken("' OR 1=1 --", "password_reset", now)).toBeNull();
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
  const tokens = new SqliteTokenRepository({ database: db });
  await users.migrate();
  await users.migrate();
  await tokens.migrate();
  await tokens.migrate();
  return { users, tokens, close: async () => void db.close() };
});

describeRepository("PostgreSQL", async () => {
  if (!(await postgresReachable())) return null;
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const table = `users_${uniqueSuffix()}`.toLowerCase();
  const users = new PostgresUserRepository({ pool, tableName: table });
  const tokens = new PostgresTokenRepository({ pool, tableName: `${table}_tokens` });
  await users.migrate();
  await users.migrate();
  await tokens.migrate();
  await tokens.migrate();
  return {
    users,
    tokens,
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_tokens`);
      await pool.end();
    },
  };
});

/** The users table as the first version created it (before email_verified_at). */
const V1_USERS = (table: string, types: { bool: string; int: string }): string => `CREATE TABLE ${table} (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  disabled ${types.bool} NOT NULL DEFAULT ${types.bool === "BOOLEAN" ? "FALSE" : "0"}, created_at ${types.int} NOT NULL, updated_at ${types.int} NOT NULL)`;

describe("migrate() of a users table made by the first version", () => {
  it("SQLite: adds email_verified_at and keeps the accounts (unverified)", async () => {
    const db = new Database(":memory:");
    db.exec(V1_USERS("users", { bool: "INTEGER", int: "INTEGER" }));
    db.prepare("INSERT INTO users VALUES ('old', 'old@example.com', 'h', 0, 1, 1)").run();
    const users = new SqliteUserRepository({ database: db });
    await users.migrate();
    await users.migrate();
    expect(await users.findUserById("old")).toMatchObject({ email: "old@example.com", emailVerifiedAt: null });
    expect(await users.markEmailVerified("old")).toBe(true);
    db.close();
  });

  it("PostgreSQL: adds email_verified_at and keeps the accounts (unverified)", async (ctx) => {
    if (!(await postgresReachable())) return ctx.skip();
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    const table = `users_v1_${uniqueSuffix()}`.toLowerCase();
    try {
      await pool.query(V1_USERS(table, { bool: "BOOLEAN", int: "BIGINT" }));
      await pool.query(`INSERT INTO ${table} VALUES ('old', 'old@example.com', 'h', FALSE, 1, 1)`);
      const users = new PostgresUserRepository({ pool, tableName: table });
      await users.migrate();
      expect(await users.findUserById("old")).toMatchObject({ email: "old@example.com", emailVerifiedAt: null });
      expect(await users.markEmailVerified("old")).toBe(true);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });
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
