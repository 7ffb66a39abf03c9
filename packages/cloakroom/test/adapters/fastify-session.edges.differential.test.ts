/**
 * cloakroom/fastify against @fastify/session 11 at the edges its README describes and the first differential does not
 * reach: `saveUninitialized`, `rolling`, cookie attributes, `cookie.secure: true` over plain HTTP, a session presented
 * after it expired (cookie `maxAge` elapsed, record gone, bad signature), `touch()`, a rotated secret array, and each
 * library's own defaults. Where the two agree the same assertion runs on both; where cloakroom differs by design the
 * test names the difference and checks each side's answer (the README's Fastify section lists them with the reasons).
 */
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { HOUR, JsonStore, LIBS, SECRET, appWith, closeApps, expiresIn, login, loginLine, post, viaCallback, type Lib, type Route } from "./fastify-session-apps.js";

afterAll(closeApps);
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** The user id the session holds, or null. */
const me: Route = async (s) => s.get("userId") ?? null;
const MINUTE = 60_000;
/** The attributes of a Set-Cookie line, after its name=value pair. */
const attributesOf = (line: string): string => line.slice(line.indexOf(";") + 1).trim();

describe.each(LIBS)("%s", (lib) => {
  it("saveUninitialized: true stores a new, unchanged session and sends its cookie once", async () => {
    const store = new JsonStore();
    const app = await appWith(lib, { "/me": me }, { store, saveUninitialized: true });
    const first = await post(app, "/me");
    expect([first.body, first.lines.length, store.sessions.size]).toEqual([null, 1, 1]);
    const again = await post(app, "/me", first.cookie);
    expect([again.body, again.lines, store.sessions.size]).toEqual([null, [], 1]);
  });

  it.each([
    ["with cookie.maxAge: a new Expires", { maxAge: MINUTE }],
    ["without: a browser-session cookie", {}],
  ])("rolling: true sends the cookie again on a read-only request (%s)", async (_, cookie) => {
    const app = await appWith(lib, { "/login": login, "/me": me }, { rolling: true, cookie });
    const read = await post(app, "/me", (await post(app, "/login")).cookie);
    expect(read.body).toBe("u1");
    expect(read.lines).toHaveLength(1);
    const expires = expiresIn(read.lines[0]!);
    if ("maxAge" in cookie) expect(expires).toBeGreaterThan(MINUTE / 2);
    else expect(expires).toBeNull();
  });

  it("cookie.domain, httpOnly: false, partitioned and sameSite \"strict\" give the same attributes", async () => {
    const line = await loginLine(lib, { cookie: { domain: "example.com", httpOnly: false, partitioned: true, sameSite: "strict" } });
    expect(attributesOf(line)).toBe("Domain=example.com; Path=/; Partitioned; SameSite=Strict");
  });

  it("cookie.secure: true over plain HTTP: a login sends no cookie and stores nothing", async () => {
    const store = new JsonStore();
    const answer = await post(await appWith(lib, { "/login": login }, { store, cookie: { secure: true } }), "/login");
    expect([answer.body, answer.lines, store.sessions.size]).toEqual(["in", [], 0]);
  });

  it.each(["the cookie's maxAge elapsed", "the store lost the record", "the signature is bad"])("a session presented after %s gives no data", async (how) => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new JsonStore();
    const app = await appWith(lib, { "/login": login, "/me": me }, { store, cookie: { maxAge: MINUTE } });
    let { cookie } = await post(app, "/login");
    if (how.includes("maxAge")) vi.setSystemTime(Date.now() + 2 * MINUTE);
    if (how.includes("store")) store.sessions.clear();
    if (how.includes("signature")) cookie = `${cookie!.slice(0, -3)}xxx`;
    expect((await post(app, "/me", cookie)).body).toBeNull();
  });
});

describe("where cloakroom/fastify and @fastify/session differ by design at the edges", () => {
  const saveNow: Route = async (s) => (s.set("userId", "u1"), viaCallback((cb) => s.save(cb)));

  it("cookie.secure: true over plain HTTP, save(): @fastify/session stores it and sends a Secure cookie over HTTP; cloakroom writes and sends nothing", async () => {
    const routes = { "/save": saveNow, "/me": me };
    const theirStore = new JsonStore();
    const theirs = await appWith("@fastify/session", routes, { store: theirStore, cookie: { secure: true } });
    const theirSave = await post(theirs, "/save");
    expect([theirSave.body, theirStore.sessions.size]).toEqual(["ok", 1]);
    expect(theirSave.lines[0]).toMatch(/^sid=[^;]+; Path=\/; HttpOnly; Secure$/);
    // A client that is not a browser sends it back over HTTP, and is served (a browser drops it: RFC 6265bis §5.7).
    expect((await post(theirs, "/me", theirSave.cookie)).body).toBe("u1");

    const ourStore = new JsonStore();
    const ourSave = await post(await appWith("cloakroom", routes, { store: ourStore, cookie: { secure: true } }), "/save");
    expect([ourSave.body, ourSave.lines, ourStore.sessions.size]).toEqual(["ok", [], 0]);
  });

  /** Log in, let the cookie's one minute pass, present it again: the reply's Set-Cookie lines and the store after it. */
  async function presentExpired(lib: Lib): Promise<{ body: unknown; lines: string[]; stored: Record<string, unknown>[] }> {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new JsonStore();
    const app = await appWith(lib, { "/login": login, "/me": me }, { store, cookie: { maxAge: MINUTE } });
    const { cookie } = await post(app, "/login");
    vi.setSystemTime(Date.now() + 2 * MINUTE);
    const { body, lines } = await post(app, "/me", cookie);
    return { body, lines, stored: [...store.sessions.values()].map((json) => JSON.parse(json) as Record<string, unknown>) };
  }

  it("an expired session presented again: @fastify/session clears the cookie and stores a new empty session nobody holds; cloakroom sends nothing and writes nothing", async () => {
    const theirs = await presentExpired("@fastify/session");
    expect(theirs.body).toBeNull();
    expect(theirs.lines).toEqual([expect.stringMatching(/^sid=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/)]);
    // Its regenerate() destroyed the old record and stored a fresh one whose ticket went to no client.
    expect(theirs.stored).toHaveLength(1);
    expect(theirs.stored[0]).not.toHaveProperty("userId");

    const ours = await presentExpired("cloakroom");
    expect([ours.body, ours.lines]).toEqual([null, []]);
    expect(ours.stored).toHaveLength(1);
    expect(ours.stored[0]).toHaveProperty("userId", "u1"); // untouched: an express-session store expires it by its own TTL
  });

  it.each(["the store lost the record", "the signature is bad"])("a dead cookie (%s): @fastify/session clears it; cloakroom sends no Set-Cookie", async (how) => {
    const answers: Record<string, string[]> = {};
    for (const lib of LIBS) {
      const store = new JsonStore();
      const app = await appWith(lib, { "/login": login, "/me": me }, { store });
      let { cookie } = await post(app, "/login");
      if (how.includes("store")) store.sessions.clear();
      else cookie = `${cookie!.slice(0, -3)}xxx`;
      answers[lib] = (await post(app, "/me", cookie)).lines;
    }
    expect(answers).toEqual({ "@fastify/session": [expect.stringMatching(/^sid=; Max-Age=0;/)], cloakroom: [] });
  });

  it("touch() with cookie.maxAge and rolling: false: @fastify/session sends and stores nothing; cloakroom writes the touch and sends the new Expires", async () => {
    const answers: Record<string, { lines: number; expiresIn: number | null }> = {};
    for (const lib of LIBS) {
      vi.useFakeTimers({ toFake: ["Date"] });
      const app = await appWith(lib, { "/login": login, "/touch": async (s) => (s.touch(), "touched") }, { cookie: { maxAge: MINUTE } });
      const { cookie } = await post(app, "/login");
      vi.setSystemTime(Date.now() + MINUTE / 2);
      const { lines } = await post(app, "/touch", cookie);
      answers[lib] = { lines: lines.length, expiresIn: lines[0] === undefined ? null : expiresIn(lines[0]) };
      vi.useRealTimers();
    }
    expect(answers["@fastify/session"]).toEqual({ lines: 0, expiresIn: null });
    expect(answers.cloakroom!.lines).toBe(1);
    expect(answers.cloakroom!.expiresIn).toBeGreaterThan(MINUTE / 2); // a minute from the touch, not from the login
  });

  it("a cookie signed by an older secret of the array, saveUninitialized: false: @fastify/session serves it once and clears it; cloakroom re-signs it and the session goes on", async () => {
    const OLD = "an-older-secret-0123456789-0123456789";
    const answers: Record<string, unknown[]> = {};
    for (const lib of LIBS) {
      const store = new JsonStore();
      const before = await appWith(lib, { "/login": login }, { store, secret: OLD });
      const after = await appWith(lib, { "/me": me }, { store, secret: [SECRET, OLD] });
      const first = await post(after, "/me", (await post(before, "/login")).cookie);
      const next = await post(after, "/me", first.cookie);
      answers[lib] = [first.body, first.lines[0]?.startsWith("sid=;") ? "cleared" : first.lines.length, next.body];
    }
    expect(answers).toEqual({ "@fastify/session": ["u1", "cleared", null], cloakroom: ["u1", 1, "u1"] });
  });

  it("each library's own defaults over plain HTTP: @fastify/session (secure: true) sends no cookie, so a login does not hold; cloakroom (secure \"auto\") sends sid", async () => {
    const theirs = await appWith("@fastify/session", { "/login": login }, {}, true);
    expect((await post(theirs, "/login")).lines).toEqual([]);
    const ours = await appWith("cloakroom", { "/login": login }, {}, true);
    expect((await post(ours, "/login")).lines).toEqual([expect.stringMatching(/^sid=s%3A[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)]);
  });

  it("a secret shorter than 32 characters: @fastify/session refuses it; cloakroom refuses it only when NODE_ENV=production", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    await expect(appWith("@fastify/session", {}, { secret: "short" })).rejects.toThrow(/length 32 or greater/);
    await expect(appWith("cloakroom", {}, { secret: "short", store: new JsonStore() })).resolves.toBeDefined();
    vi.stubEnv("NODE_ENV", "production");
    await expect(appWith("cloakroom", {}, { secret: "short", store: new JsonStore() })).rejects.toThrow(/at least 32 characters in production/);
    warn.mockRestore();
  });

  it("a remembered login (cookie.maxAge) is persistent on both; @fastify/session's cookie has no SameSite, cloakroom's is Lax", async () => {
    const theirs = await loginLine("@fastify/session", { cookie: { maxAge: HOUR } });
    const ours = await loginLine("cloakroom", { cookie: { maxAge: HOUR } });
    for (const line of [theirs, ours]) expect(expiresIn(line)).toBeGreaterThan(HOUR / 2);
    expect(theirs).not.toMatch(/SameSite/i);
    expect(ours).toMatch(/; SameSite=Lax$/);
  });
});
