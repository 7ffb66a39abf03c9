/**
 * SessionManager's tickets: a request without a cookie, signing, rotation of secrets, forged and unknown tickets.
 * Shared set-up: manager.test-helper.ts.
 */
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory.js";
import { createSigner } from "./signing.js";
import { storeKeyOf } from "./ticket.js";
import { SessionManager } from "./manager.js";
import { SECRET, cookieFrom, setup, stores } from "./manager.test-helper.js";

describe("SessionManager", () => {
  describe("a request without a cookie", () => {
    it("stores nothing and sets no cookie when the session stays empty", async () => {
      const { manager, calls, load } = setup();
      const session = await load();
      expect(await manager.commit(session)).toBeNull();
      expect(calls.create ?? 0).toBe(0);
    });

    it("creates a record and sets the cookie once data is written", async () => {
      const { manager, memory, load } = setup();
      const session = await load();
      session.cart = ["apple"];
      const line = await manager.commit(session);
      expect(line).toMatch(/^sid=s%3A[A-Za-z0-9_-]{43}\.[A-Za-z0-9%+/]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const again = await load(cookieFrom(line));
      expect(again.cart).toEqual(["apple"]);
      expect(await memory.count()).toBe(1);
    });

    it("saves empty sessions with saveUninitialized", async () => {
      const { manager, load } = setup({ saveUninitialized: true });
      expect(await manager.commit(await load())).not.toBeNull();
    });
  });

  describe("tickets", () => {
    it("never stores the ticket: the store key is SHA-256 of it", async () => {
      const { manager, memory, load } = setup();
      const session = await load();
      session.userId = "u1";
      await manager.commit(session);
      const [entry] = await memory.listByUser("u1");
      expect(entry!.key).toBe(storeKeyOf(session.id!));
      expect(JSON.stringify(entry)).not.toContain(session.id!);
    });

    it("never adopts an unknown well-formed ticket and creates no record for it", async () => {
      const { manager, calls, load, events } = setup();
      const forged = createSigner([SECRET]).sign("attacker-chosen-ticket-000000000000000000000");
      const session = await load(`sid=${encodeURIComponent(forged)}`);
      expect(session.id).toBeNull();
      expect(calls.create ?? 0).toBe(0);
      session.userId = "victim";
      await manager.commit(session);
      expect(session.id).not.toBe("attacker-chosen-ticket-000000000000000000000");
      expect(events.map((e) => e.type)).toContain("unknown_session");
    });

    it.each([
      ["a forged signature", "sid=s%3Aabc.def"],
      ["bad percent-encoding", "sid=%E0%A4%A"],
      ["a 10 kB cookie", `sid=${"x".repeat(10_000)}`],
      ["an empty value", "sid="],
    ])("treats %s as no session, without a store lookup", async (_, header) => {
      const { calls, load } = setup();
      const session = await load(header);
      expect(session.id).toBeNull();
      expect(calls.get ?? 0).toBe(0);
    });

    it("refuses two different valid tickets under one name (cookie tossing)", async () => {
      const { manager, load, events } = setup();
      const a = await load();
      a.userId = "alice";
      const lineA = await manager.commit(a);
      const b = await load();
      b.userId = "mallory";
      const lineB = await manager.commit(b);
      const both = await load(`${cookieFrom(lineB)}; ${cookieFrom(lineA)}`);
      expect(both.userId).toBeUndefined();
      expect(events.some((e) => e.type === "ambiguous_cookie")).toBe(true);
      // The same ticket twice is not ambiguous.
      expect((await load(`${cookieFrom(lineA)}; ${cookieFrom(lineA)}`)).userId).toBe("alice");
    });

    it("re-signs a ticket verified by an older secret with the current one", async () => {
      const clock = { t: 1_000_000 };
      const memory = new MemoryStore({ now: () => clock.t });
      stores.push(memory);
      const old = new SessionManager({ store: memory, secret: "old-secret-0123456789abcdefghijklmnop", now: () => clock.t });
      const s = await old.load({ cookieHeader: undefined, secure: false });
      s.userId = "u";
      const oldLine = await old.commit(s);
      const rotated = new SessionManager({ store: memory, secret: [SECRET, "old-secret-0123456789abcdefghijklmnop"], now: () => clock.t });
      const loaded = await rotated.load({ cookieHeader: cookieFrom(oldLine), secure: false });
      expect(loaded.userId).toBe("u");
      const line = await rotated.commit(loaded);
      expect(cookieFrom(line)).toBe(`sid=${encodeURIComponent(createSigner([SECRET]).sign(loaded.id!))}`);
    });
  });

});
