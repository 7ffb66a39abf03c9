/**
 * SessionManager's writes: change tracking, rotation of the ticket when the identity changes, and the commit plan.
 * Shared set-up: manager.test-helper.ts.
 */
import { describe, expect, it } from "vitest";
import { MIN, cookieFrom, setup } from "./manager.test-helper.js";

describe("SessionManager", () => {
  describe("change tracking", () => {
    it("a session loaded from a store's shared, frozen record (peek) is the request's own: its objects change freely", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      s.cart = ["sku-1"];
      s.prefs = { theme: "dark" };
      const cookie = cookieFrom(await manager.commit(s));
      const key = manager.describe(await load(cookie))!.key;
      expect(Object.isFrozen(memory.peek(key))).toBe(true);
      const first = await load(cookie);
      (first.cart as string[]).push("sku-2");
      (first.prefs as { theme: string }).theme = "light";
      first.userId = "u1";
      expect(Object.isFrozen(first.cart) || Object.isFrozen(first.prefs)).toBe(false);
      const second = await load(cookie);
      expect([second.cart, second.prefs]).toEqual([["sku-1"], { theme: "dark" }]);
      expect(memory.peek(key)!.data).toEqual({ userId: "u1", cart: ["sku-1"], prefs: { theme: "dark" } });
      const rotated = cookieFrom(await manager.commit(first));
      const third = await load(rotated);
      expect([third.userId, third.cart, third.prefs]).toEqual(["u1", ["sku-1", "sku-2"], { theme: "light" }]);
    });

    it("writes nothing for a read-only request inside the touch window", async () => {
      const { manager, calls, clock, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const before = { ...calls };
      clock.t += 30_000;
      const again = await load(cookie);
      expect(await manager.commit(again)).toBeNull();
      expect(calls.patch ?? 0).toBe(before.patch ?? 0);
      expect(calls.touch ?? 0).toBe(before.touch ?? 0);
      expect(calls.create).toBe(before.create);
    });

    it("touches once the touch window has passed", async () => {
      const { manager, calls, clock, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      clock.t += 61_000;
      await manager.commit(await load(cookie));
      expect(calls.touch).toBe(1);
      const [entry] = await memory.listByUser("u1");
      expect(entry!.record.idleExpiresAt).toBe(clock.t + 30 * MIN);
    });

    it("patches only the keys that changed, nested mutation included", async () => {
      const { manager, memory, load } = setup();
      const s = await load();
      Object.assign(s, { userId: "u1", prefs: { theme: "dark" }, cart: [1], gone: true });
      const cookie = cookieFrom(await manager.commit(s));
      const patches: unknown[] = [];
      const originalPatch = memory.patch.bind(memory);
      memory.patch = (key, patch) => {
        patches.push(patch);
        return originalPatch(key, patch);
      };
      const t = await load(cookie);
      (t.prefs as { theme: string }).theme = "light";
      delete t.gone;
      await manager.commit(t);
      expect(patches).toHaveLength(1);
      expect(patches[0]).toMatchObject({ set: { prefs: { theme: "light" } }, unset: ["gone"] });
      expect(Object.keys((patches[0] as { set: object }).set)).toEqual(["prefs"]);
    });

    it("two concurrent requests changing different keys both survive", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const [a, b] = await Promise.all([load(cookie), load(cookie)]);
      a!.left = 1;
      b!.right = 2;
      await Promise.all([manager.commit(a!), manager.commit(b!)]);
      const after = await load(cookie);
      expect([after.left, after.right]).toEqual([1, 2]);
    });

    it("a stored __proto__ key cannot change a session's prototype", async () => {
      const { manager, load } = setup();
      const s = await load();
      Object.defineProperty(s, "__proto__", { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
      s.userId = "u";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      expect((again as { polluted?: boolean }).polluted).toBeUndefined();
      expect(typeof again.save).toBe("function");
    });
  });

  describe("rotation", () => {
    it("rotates the ticket when the identity key changes, keeping the data and killing the old ticket", async () => {
      const { manager, load, memory } = setup();
      const anon = await load();
      anon.csrf = "token-before-login";
      const before = cookieFrom(await manager.commit(anon));
      const login = await load(before);
      login.userId = "u1";
      const after = cookieFrom(await manager.commit(login));
      expect(after).not.toBe(before);
      expect((await load(before)).csrf).toBeUndefined();
      const fresh = await load(after);
      expect(fresh.userId).toBe("u1");
      expect(fresh.csrf).toBe("token-before-login");
      expect(await memory.count()).toBe(1);
    });

    it("rotate() issues a new ticket now and keeps the data", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const first = cookieFrom(await manager.commit(s));
      const again = await load(first);
      await again.rotate();
      const line = await manager.commit(again);
      expect(cookieFrom(line)).not.toBe(first);
      expect((await load(first)).userId).toBeUndefined();
      expect((await load(cookieFrom(line))).userId).toBe("u1");
    });

    it("an explicit save() mid-request keeps its Set-Cookie for the response", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      await s.save();
      const line = manager.prepare(s);
      expect(line).toMatch(/^sid=/);
      expect(await manager.commit(s)).toBe(line);
    });
  });

  describe("the commit plan", () => {
    it("decide() says what a commit would do without doing it; commit(plan) executes exactly that", async () => {
      const { manager, load, calls } = setup();
      const s = await load();
      s.userId = "u1";
      const plan = manager.decide(s);
      expect(plan.call.op).toBe("create");
      expect(calls.create ?? 0).toBe(0);
      expect(await manager.commit(s, plan)).toBe(plan.setCookie);
      expect(calls.create).toBe(1);
      expect(manager.decide(s).call.op).toBe("none");
    });

    it("a save() not awaited and the end-of-request commit write the session once, under one ticket", async () => {
      const { manager, load, calls } = setup();
      const s = await load();
      s.userId = "u1";
      const early = manager.commit(s);
      const late = manager.commit(s);
      const [first, second] = await Promise.all([early, late]);
      expect(calls.create).toBe(1);
      expect(second).toBe(first);
    });

    it("a cookie line made by an explicit save() still reaches the response's commit", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const line = await manager.commit(s);
      expect(manager.decide(s).setCookie).toBe(line);
    });

    it("detach(): the request dropped its session, nothing it changed is saved", async () => {
      const { manager, load, signIn, calls } = setup();
      const s = await load(await signIn());
      s.cart = ["x"];
      manager.detach(s);
      expect(manager.decide(s)).toMatchObject({ call: { op: "none" }, setCookie: null });
      expect(calls.patch ?? 0).toBe(0);
    });

    it("regenerate() empties the session in place, or (replace) gives a new object that takes its place", async () => {
      const { manager, load, signIn } = setup();
      const same = await load(await signIn());
      expect(await manager.regenerate(same)).toBe(same);
      expect(Object.keys(same)).toEqual(["cookie"]);
      const s = await load(await signIn());
      const fresh = await manager.regenerate(s, { replace: true });
      expect(fresh).not.toBe(s);
      fresh.note = "new";
      s.ignored = true;
      const plan = manager.decide(fresh);
      expect(plan.call).toMatchObject({ op: "create", record: { data: { note: "new" } } });
    });

    it("cookie.expires as an option: new sessions expire at that date", async () => {
      const { manager, clock } = setup({ cookie: { expires: new Date(Date.UTC(2026, 10, 27, 10)) } });
      const s = await manager.load({ cookieHeader: undefined, secure: false });
      expect(s.cookie.originalMaxAge).toBe(Date.UTC(2026, 10, 27, 10) - clock.t);
      s.userId = "u1";
      expect(await manager.commit(s)).toMatch(/Max-Age=3600;/);
    });
  });

});
