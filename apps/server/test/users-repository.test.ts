import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresUserRepository } from "../src/users/postgres.js";
import { SqliteUserRepository } from "../src/users/sqlite.js";
import { PostgresTokenRepository } from "../src/users/tokens-postgres.js";
import { SqliteTokenRepository } from "../src/users/tokens-sqlite.js";
import type { TokenRepository } from "../src/users/tokens.js";
import { PostgresPasskeyRepository } from "../src/users/passkeys-postgres.js";
import { SqlitePasskeyRepository } from "../src/users/passkeys-sqlite.js";
import type { PasskeyRecord, PasskeyRepository } from "../src/users/passkeys.js";
import type { UserRepository } from "../src/users/types.js";
import { DATABASE_URL, postgresReachable, uniqueSuffix } from "../../../packages/cloakroom/test/servers.js";

interface Opened {
  users: UserRepository;
  tokens: TokenRepository;
  passkeys: PasskeyRepository;
  close: () => Promise<void>;
}

function describeRepository(name: string, open: () => Promise<Opened | null>): void {
  describe(`${name} UserRepository`, () => {
    let users: UserRepository | null = null;
    let tokens: TokenRepository | null = null;
    let passkeys: PasskeyRepository | null = null;
    let close: () => Promise<void> = async () => {};
    beforeAll(async () => {
      const opened = await open();
      if (opened) ({ users, tokens, passkeys, close } = opened);
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

    it("passkeys: kept with key, counter, transports and backup flags; listed per user; a credential id only once", async (ctx) => {
      if (!passkeys) return ctx.skip();
      const key: PasskeyRecord = {
        id: "cred-1",
        userId: "u1",
        name: "Laptop",
        publicKey: new Uint8Array([165, 1, 2, 3, 38, 0, 255]),
        counter: 0,
        transports: ["internal", "hybrid"],
        deviceType: "multiDevice",
        backedUp: true,
        createdAt: 10,
        lastUsedAt: null,
      };
      expect(await passkeys.addPasskey(key)).toBe(true);
      expect(await passkeys.addPasskey({ ...key, userId: "u2" })).toBe(false);
      expect(await passkeys.addPasskey({ ...key, id: "cred-2", name: "Phone", createdAt: 20, backedUp: false, deviceType: "singleDevice" })).toBe(true);
      expect(await passkeys.findPasskey("cred-1")).toEqual(key);
      expect((await passkeys.listUserPasskeys("u1")).map((p) => p.name)).toEqual(["Laptop", "Phone"]);
      await passkeys.recordPasskeyUse("cred-1", { counter: 7, backedUp: false, usedAt: 99 });
      expect(await passkeys.findPasskey("cred-1")).toMatchObject({ counter: 7, backedUp: false, lastUsedAt: 99 });
      expect(await passkeys.deletePasskey("u2", "cred-1")).toBe(false);
      expect(await passkeys.deletePasskey("u1", "cred-1")).toBe(true);
      expect(await passkeys.findPasskey("cred-1")).toBeNull();
      expect(await passkeys.findPasskey("' OR 1=1 --")).toBeNull();
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
  const passkeys = new SqlitePasskeyRepository({ database: db });
  for (const repository of [users, tokens, passkeys, users, tokens, passkeys]) await repository.migrate();
  return { users, tokens, passkeys, close: async () => void db.close() };
});

describeRepository("PostgreSQL", async () => {
  if (!(await postgresReachable())) return null;
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const table = `users_${uniqueSuffix()}`.toLowerCase();
  const users = new PostgresUserRepository({ pool, tableName: table });
  const tokens = new PostgresTokenRepository({ pool, tableName: `${table}_tokens` });
  const passkeys = new PostgresPasskeyRepository({ pool, tableName: `${table}_passkeys` });
  for (const repository of [users, tokens, passkeys, users, tokens, passkeys]) await repository.migrate();
  return {
    users,
    tokens,
    passkeys,
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_tokens, ${table}_passkeys`);
      await pool.end();
    },
  };
});

/** The users table as the first version created it (before email_verified_at). */
const V1_USERS = (table: string, types: { bool: string; int: string }): string => `CREATE TABLE ${table} (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  disabled ${types.bool} NOT NULL DEFAULT ${types.bool === "BOOLEAN" ? "FALSE" : "0"}, created_at ${types.int} NOT NULL, updated_at ${types.int} NOT NULL)`;

describe("migrate() of a users table made by the first version", () => {
  it("SQLite: adds email_verified_at, makes password_hash nullable, and keeps the accounts (unverified)", async () => {
    const db = new Database(":memory:");
    db.exec(V1_USERS("users", { bool: "INTEGER", int: "INTEGER" }));
    db.prepare("INSERT INTO users VALUES ('old', 'old@example.com', 'h', 0, 1, 1)").run();
    const users = new SqliteUserRepository({ database: db });
    await users.migrate();
    await users.migrate();
    expect(await users.findUserById("old")).toMatchObject({ email: "old@example.com", passwordHash: "h", emailVerifiedAt: null });
    expect(await users.markEmailVerified("old")).toBe(true);
    expect(await users.updatePasswordHash("old", null)).toBe(true);
    expect((await users.findUserById("old"))?.passwordHash).toBeNull();
    // Still one account per email, whatever the case.
    expect(await users.createUser({ email: "OLD@example.com", passwordHash: "x" })).toBeNull();
    db.close();
  });

  it("PostgreSQL: adds email_verified_at, makes password_hash nullable, and keeps the accounts (unverified)", async (ctx) => {
    if (!(await postgresReachable())) return ctx.skip();
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    const table = `users_v1_${uniqueSuffix()}`.toLowerCase();
    try {
      await pool.query(V1_USERS(table, { bool: "BOOLEAN", int: "BIGINT" }));
      await pool.query(`INSERT INTO ${table} VALUES ('old', 'old@example.com', 'h', FALSE, 1, 1)`);
      const users = new PostgresUserRepository({ pool, tableName: table });
      await users.migrate();
      expect(await users.findUserById("old")).toMatchObject({ email: "old@example.com", passwordHash: "h", emailVerifiedAt: null });
      expect(await users.markEmailVerified("old")).toBe(true);
      expect(await users.updatePasswordHash("old", null)).toBe(true);
      expect((await users.findUserById("old"))?.passwordHash).toBeNull();
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
