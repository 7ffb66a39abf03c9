/**
 * The seed's flow as tests, for the examples on other frameworks: each example's test file starts its app on
 * 127.0.0.1 and calls {@link describeSeedFlow} with its address.
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain JavaScript example without type declarations
import { DEMO_EMAIL, DEMO_PASSWORD } from "./seed/users.js";

async function post(base: string, path: string, body?: object, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cookie) headers.cookie = cookie;
  return fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body ?? {}) });
}

function sidOf(response: Response): string {
  const line = response.headers.getSetCookie().find((l) => l.startsWith("sid="));
  if (!line) throw new Error("no session cookie");
  return line.split(";")[0]!;
}

async function dashboard(base: string, cookie: string): Promise<[number, string]> {
  const response = await fetch(`${base}/dashboard`, { headers: { cookie } });
  return [response.status, await response.text()];
}

/** The seed's login, requireAuth dashboard and logout, against the app at `base()`. */
export function describeSeedFlow(name: string, base: () => string): void {
  const login = (password: string, cookie?: string): Promise<Response> => post(base(), "/login", { email: DEMO_EMAIL, password }, cookie);

  describe(name, () => {
    it("answers a wrong password with 401 Invalid credentials and sets no cookie", async () => {
      const response = await login("wrong password here");
      expect([response.status, await response.text(), response.headers.getSetCookie()]).toEqual([401, "Invalid credentials", []]);
    });

    it("logs in, serves the dashboard, logs out, and then refuses the dashboard", async () => {
      const response = await login(DEMO_PASSWORD);
      expect([response.status, await response.text()]).toEqual([200, "Logged in"]);
      expect(response.headers.getSetCookie()[0]).toMatch(/HttpOnly/);
      const cookie = sidOf(response);
      expect(await dashboard(base(), cookie)).toEqual([200, "Protected route"]);
      const logout = await post(base(), "/logout", {}, cookie);
      expect([logout.status, await logout.text()]).toEqual([200, "Logged out"]);
      expect(logout.headers.getSetCookie()[0]).toMatch(/^sid=; Max-Age=0/);
      expect(await dashboard(base(), cookie)).toEqual([401, "Not authenticated"]);
    });

    it("issues a new ticket at login: the earlier ticket is dead afterwards", async () => {
      const first = sidOf(await login(DEMO_PASSWORD));
      const after = sidOf(await login(DEMO_PASSWORD, first));
      expect(after).not.toBe(first);
      expect((await dashboard(base(), first))[0]).toBe(401);
      expect((await dashboard(base(), after))[0]).toBe(200);
    });
  });
}
