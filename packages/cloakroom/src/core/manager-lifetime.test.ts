/**
 * SessionManager over a session's life: server-side timeouts on an injected clock, destroy, regenerate, reload, and
 * session.cookie. Shared set-up: manager.test-helper.ts.
 */
import { describe, expect, it } from "vitest";
import { MIN, cookieFrom, setup } from "./manager.test-helper.js";

describe("SessionManager", () => {
  describe("timeouts (server-side, injected clock)", () => {
    it("idle: a request at idle−1 s succeeds and slides the window; at idle+1 s the session is gone", async () => {
      const { manager, clock, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      clock.t += 30 * MIN - 1000;
      const alive = await load(cookie);
      expect(alive.userId).toBe("u1");
      await manager.commit(alive);
      clock.t += 30 * MIN - 1000;
      expect((await load(cookie)).userId).toBe("u1");
      clock.t += 30 * MIN + 1000;
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("touchAfter is judged at the load's clock: a touch falling due during a read-only request is the next request's; a write uses the clock of the commit", async () => {
      const { manager, clock, load, signIn, calls } = setup({ touchAfter: MIN });
      const cookie = await signIn();
      const created = clock.t;
      clock.t += MIN - 1000;
      const inside = await load(cookie);
      clock.t += 2000; // touchAfter passes while the request runs
      expect(await manager.commit(inside)).toBeNull();
      expect(calls.touch ?? 0).toBe(0);
      const next = await load(cookie);
      expect(next.details?.touchedAt).toBe(created);
      clock.t += 5000;
      await manager.commit(next);
      expect(calls.touch).toBe(1);
      expect((await load(cookie)).details?.touchedAt).toBe(clock.t);
      const writer = await load(cookie);
      clock.t += 3000;
      writer.theme = "dark";
      await manager.commit(writer);
      expect((await load(cookie)).details?.touchedAt).toBe(clock.t);
    });

    it("absolute: a session used every minute dies at absolute+1 s", async () => {
      const { manager, clock, load } = setup({ absoluteTimeout: 60 * MIN });
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      for (let i = 0; i < 59; i++) {
        clock.t += MIN;
        const live = await load(cookie);
        expect(live.userId).toBe("u1");
        await manager.commit(live);
      }
      clock.t += MIN + 1000;
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("a persistent cookie's Max-Age never outlives the absolute timeout", async () => {
      const { manager, load } = setup({ absoluteTimeout: 60 * MIN });
      const s = await load();
      s.userId = "u1";
      s.cookie.maxAge = 7 * 24 * 60 * MIN;
      const line = await manager.commit(s);
      expect(line).toContain("Max-Age=3600");
    });
  });

  describe("destroy, regenerate, reload", () => {
    it("destroy() deletes the record and clears the cookie", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.destroy();
      expect(await manager.commit(again)).toBe("sid=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
      expect(await memory.count()).toBe(0);
      expect((await load(cookie)).userId).toBeUndefined();
    });

    it("regenerate() gives a new empty session and kills the old one", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.regenerate();
      expect(again.userId).toBeUndefined();
      again.fresh = true;
      const line = await manager.commit(again);
      expect(cookieFrom(line)).not.toBe(cookie);
      expect((await load(cookie)).fresh).toBeUndefined();
    });

    it("regenerate() with nothing stored afterwards clears the cookie", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      await again.regenerate();
      expect(await manager.commit(again)).toMatch(/^sid=; Max-Age=0/);
    });

    it("details describes the stored session", async () => {
      const { manager, load, clock } = setup();
      const s = await load();
      expect(s.details).toBeNull();
      s.userId = "u1";
      await manager.commit(s);
      expect(s.details).toMatchObject({ createdAt: clock.t, touchedAt: clock.t, expiresAt: clock.t + 30 * MIN, persistent: false, ip: "203.0.113.7" });
    });

    it("reload() re-reads the data, and rejects once the session is gone", async () => {
      const { manager, load } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const a = await load(cookie);
      const b = await load(cookie);
      b.n = 5;
      await manager.commit(b);
      await a.reload();
      expect(a.n).toBe(5);
      await b.destroy();
      await expect(a.reload()).rejects.toThrow("failed to load session");
    });

    it("a patch after the session was destroyed elsewhere does not resurrect it", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const a = await load(cookie);
      const b = await load(cookie);
      await a.destroy();
      b.late = true;
      await manager.commit(b);
      expect(await memory.count()).toBe(0);
    });
  });

  describe("session.cookie (express-session's Cookie)", () => {
    it("reports and changes the persistent lifetime, and mirrors the resolved attributes", async () => {
      const { manager, load } = setup({ cookie: { sameSite: "strict" } });
      const s = await load(null, { secure: true });
      expect(s.cookie.maxAge).toBeNull();
      expect(s.cookie.expires).toBeNull();
      expect([s.cookie.httpOnly, s.cookie.secure, s.cookie.path, s.cookie.domain, s.cookie.sameSite]).toEqual([true, true, "/", undefined, "strict"]);
      s.userId = "u1";
      s.cookie.expires = new Date(Date.now() + 3_600_000);
      expect(s.cookie.originalMaxAge).toBeGreaterThan(3_590_000);
      s.cookie.maxAge = 120_000;
      expect(s.cookie.maxAge).toBe(120_000);
      expect(s.cookie.toJSON()).toMatchObject({ originalMaxAge: 120_000, httpOnly: true, secure: true, sameSite: "strict" });
      const line = await manager.commit(s);
      expect(line).toMatch(/^__Host-sid=.*Max-Age=120;/);
      expect(s.cookie.maxAge).toBeLessThanOrEqual(120_000);
      s.cookie.expires = null;
      expect(s.cookie.maxAge).toBeNull();
      // express-session's meaning of a lifetime that is over: the cookie (and the session) expire at once.
      s.cookie.maxAge = -1;
      expect(s.cookie.maxAge).toBeLessThan(0);
      expect(() => {
        s.cookie.maxAge = "soon" as never;
      }).toThrow(TypeError);
    });

    it("turning a session persistent later patches it and re-sends the cookie with Max-Age", async () => {
      const { manager, load, memory } = setup();
      const s = await load();
      s.userId = "u1";
      const cookie = cookieFrom(await manager.commit(s));
      const again = await load(cookie);
      again.cookie.maxAge = 600_000;
      expect(await manager.commit(again)).toMatch(/Max-Age=600;/);
      expect((await memory.listByUser("u1"))[0]!.record.cookieMaxAge).toBe(600_000);
    });
  });

});
