/**
 * SessionManager's edges: binding detection, per-user sessions, a failing store, and configuration. Shared set-up:
 * manager.test-helper.ts.
 */
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory.js";
import { SessionStoreUnavailableError } from "./errors.js";
import { SessionManager, type SessionManagerOptions } from "./manager.js";
import { SECRET, cookieFrom, setup, stores } from "./manager.test-helper.js";

describe("SessionManager", () => {
  describe("binding (detection only)", () => {
    it("reports a User-Agent change on a live session and still serves it", async () => {
      const { manager, events } = setup();
      const first = await manager.load({ cookieHeader: undefined, secure: false, userAgent: "Firefox/1" });
      first.userId = "u1";
      const cookie = cookieFrom(await manager.commit(first));
      const same = await manager.load({ cookieHeader: cookie, secure: false, userAgent: "Firefox/1" });
      expect(events.some((e) => e.type === "user_agent_changed")).toBe(false);
      expect(same.userId).toBe("u1");
      const other = await manager.load({ cookieHeader: cookie, secure: false, userAgent: "curl/8" });
      expect(other.userId).toBe("u1");
      expect(events.filter((e) => e.type === "user_agent_changed")).toEqual([expect.objectContaining({ userId: "u1" })]);
    });
  });

  describe("per-user sessions", () => {
    it("lists, revokes one (only the owner's), and revokes all but the current one", async () => {
      const { manager, load, clock } = setup();
      const cookies: string[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await load();
        s.userId = "u1";
        cookies.push(cookieFrom(await manager.commit(s)));
        clock.t += 1000;
      }
      const list = await manager.listUserSessions("u1");
      expect(list).toHaveLength(3);
      expect(list[0]!.createdAt).toBeGreaterThan(list[2]!.createdAt);
      expect(list[0]).toMatchObject({ ip: "203.0.113.7", userAgent: "test-agent", persistent: false });
      expect(await manager.revokeSession("someone-else", list[0]!.key)).toBe(false);
      expect(await manager.revokeSession("u1", list[0]!.key)).toBe(true);
      const current = await load(cookies[0]);
      const kept = manager.describe(current)!.key;
      expect(await manager.revokeUserSessions("u1", { except: kept })).toBe(1);
      expect((await manager.listUserSessions("u1")).map((s) => s.key)).toEqual([kept]);
    });
  });

  describe("when the store fails", () => {
    it("load() rejects with SessionStoreUnavailableError keeping the cause (never anonymous)", async () => {
      const { memory, load, signIn } = setup();
      const cookie = await signIn();
      const boom = new Error("connection refused");
      memory.get = () => Promise.reject(boom);
      memory.peek = () => undefined; // not in memory: the manager must ask get()
      const error = await load(cookie).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect((error as Error).cause).toBe(boom);
      expect((error as SessionStoreUnavailableError).status).toBe(503);
    });

    it("a store whose synchronous peek() throws fails the load the same way (a rejection, never a throw)", async () => {
      const { manager, memory, signIn } = setup();
      const cookie = await signIn();
      const boom = new Error("cache corrupted");
      memory.peek = () => {
        throw boom;
      };
      const pending = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(pending).toBeInstanceOf(Promise);
      const error = await (pending as Promise<unknown>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect((error as Error).cause).toBe(boom);
    });

    it("loadNow() answers synchronously when the store can peek, and through get() when it cannot", async () => {
      const { manager, memory, signIn } = setup();
      const cookie = await signIn();
      const now = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(now).not.toBeInstanceOf(Promise);
      expect((now as { userId?: string }).userId).toBe("u1");
      let gets = 0;
      const get = memory.get.bind(memory);
      memory.get = (key: string) => {
        gets++;
        return get(key);
      };
      memory.peek = () => undefined;
      const later = manager.loadNow({ cookieHeader: cookie, secure: false });
      expect(later).toBeInstanceOf(Promise);
      expect(((await later) as { userId?: string }).userId).toBe("u1");
      expect(gets).toBe(1);
    });
  });

  describe("configuration", () => {
    it.each([
      [{ secret: undefined }, /secret option required/],
      [{ secret: [] }, /one or more/],
      [{ store: {} }, /store option/],
      [{ identityKey: "" }, /identityKey/],
      [{ cookie: { maxAge: -5 } }, /cookie.maxAge/],
      [{ idleTimeout: "30m" }, /idleTimeout/],
    ])("refuses %j with a TypeError naming the option", (bad, message) => {
      const memory = new MemoryStore();
      stores.push(memory);
      expect(() => new SessionManager({ store: memory, secret: SECRET, ...(bad as object) } as SessionManagerOptions)).toThrow(message);
    });

    it("refuses a secret shorter than 32 characters in production only", () => {
      const memory = new MemoryStore();
      stores.push(memory);
      const previous = process.env.NODE_ENV;
      try {
        process.env.NODE_ENV = "production";
        expect(() => new SessionManager({ store: memory, secret: "random-secret" })).toThrow(/32 characters/);
        process.env.NODE_ENV = "development";
        expect(() => new SessionManager({ store: memory, secret: "random-secret" })).not.toThrow();
      } finally {
        process.env.NODE_ENV = previous;
      }
    });
  });
});
