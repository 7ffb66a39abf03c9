/**
 * How cloakroom/express binds a session to the request and the response (issue 11): prototype accessors and
 * prototype-level interceptors under Express, own properties and per-response wrappers elsewhere — and every way an
 * app or another middleware can meet them.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import express from "express";
import compression from "compression";
import cookieSession from "cookie-session";
import { afterAll, describe, expect, it } from "vitest";
import session from "cloakroom/express";

const require = createRequire(import.meta.url);
const express4 = require("express4") as typeof express;
const SECRET = "binding-test-secret-0123456789abcdefgh";

type Req = express.Request & { session: Record<string, unknown> & { regenerate?: unknown } };

const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function serve(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A cookie-keeping client. */
function client(base: string) {
  const jar = new Map<string, string>();
  return async (path: string, init: RequestInit = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(base + path, { ...init, headers: { ...(cookie ? { cookie } : {}), ...(init.headers as object) } });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (/Max-Age=0/.test(line)) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1));
    }
    return { status: res.status, body: init.method === "HEAD" ? "" : await res.text(), headers: res.headers };
  };
}

/** An app with the session middleware and `POST /login/:user`, which logs that user in. */
function sessionApp(make: typeof express): express.Express {
  const app = make();
  app.use(session({ secret: SECRET }));
  app.post("/login/:user", (req, res) => {
    (req as Req).session.userId = req.params.user;
    res.send("ok");
  });
  return app;
}

/** Log `user` in and return the `name=value` of the session cookie. */
async function loginCookie(base: string, user: string): Promise<string> {
  const res = await fetch(`${base}/login/${user}`, { method: "POST" });
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

const counter = (req: express.Request, res: express.Response): void => {
  const s = (req as Req).session;
  s.n = ((s.n as number | undefined) ?? 0) + 1;
  res.send(`n=${s.n}`);
};

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("on %s", (_label, make) => {
  it("adds no own property to req or res, and the session works", async () => {
    const app = make();
    app.use(session({ secret: SECRET }));
    const seen: string[][] = [];
    app.get("/", (req, res) => {
      counter(req, res);
      seen.push(["session", "sessionID", "sessionStore"].filter((k) => Object.prototype.hasOwnProperty.call(req, k)));
      seen.push(["end", "writeHead"].filter((k) => Object.prototype.hasOwnProperty.call(res, k)));
    });
    const get = client(await serve(app));
    expect((await get("/")).body).toBe("n=1");
    expect((await get("/")).body).toBe("n=2");
    expect(seen.flat()).toEqual([]);
  });

  it("mounted sub-apps and routers see the session, before and after they run", async () => {
    const app = make();
    const sub = make();
    const router = make.Router();
    app.use(session({ secret: SECRET }));
    sub.get("/count", counter);
    sub.use((req, _res, next) => {
      (req as Req).session.inSub = true;
      next();
    });
    router.get("/count", counter);
    app.use("/sub", sub);
    app.use("/router", router);
    app.get("/sub/after", (req, res) => void res.json({ inSub: (req as Req).session.inSub ?? null, n: (req as Req).session.n }));
    const get = client(await serve(app));
    expect((await get("/sub/count")).body).toBe("n=1");
    expect((await get("/router/count")).body).toBe("n=2");
    expect(JSON.parse((await get("/sub/after")).body)).toEqual({ inSub: true, n: 2 });
  });

  it("a session middleware mounted only in a sub-app: the parent's later handlers still see it", async () => {
    const app = make();
    const sub = make();
    sub.use(session({ secret: SECRET }));
    sub.use((req, _res, next) => {
      (req as Req).session.n = ((req as Req).session.n as number ?? 0) + 1;
      next();
    });
    app.use("/area", sub);
    app.get("/area/show", (req, res) => void res.send(`n=${(req as Req).session?.n}`));
    const get = client(await serve(app));
    expect((await get("/area/show")).body).toBe("n=1");
    expect((await get("/area/show")).body).toBe("n=2");
  });

  it("req.session = null keeps the stored session; unset: 'destroy' destroys it", async () => {
    for (const unset of ["keep", "destroy"] as const) {
      const app = make();
      app.use(session({ secret: SECRET, unset }));
      app.get("/", counter);
      app.get("/drop", (req, res) => {
        (req as unknown as { session: null }).session = null;
        res.send(`session: ${String((req as unknown as { session: unknown }).session)}`);
      });
      const get = client(await serve(app));
      await get("/");
      expect((await get("/drop")).body).toBe("session: null");
      expect((await get("/")).body).toBe(unset === "keep" ? "n=2" : "n=1");
    }
  });

  it("cookie-session in front defines its own req.session: cloakroom steps aside, and cookie-session works", async () => {
    const app = make();
    app.use(cookieSession({ name: "cs", secret: SECRET }));
    app.use(session({ secret: SECRET }));
    app.get("/", (req, res) => {
      const s = (req as unknown as { session: { n?: number; regenerate?: unknown } }).session;
      s.n = (s.n ?? 0) + 1;
      res.send(`n=${s.n} cloakroom=${typeof s.regenerate === "function"}`);
    });
    const get = client(await serve(app));
    expect((await get("/")).body).toBe("n=1 cloakroom=false");
    expect((await get("/")).body).toBe("n=2 cloakroom=false");
  });

  it("compression in front (it wraps res.write/res.end per response): the session is saved and the body compressed", async () => {
    const app = make();
    app.use(compression({ threshold: 0 }));
    app.use(session({ secret: SECRET }));
    app.get("/", (req, res) => {
      (req as Req).session.n = (((req as Req).session.n as number) ?? 0) + 1;
      res.type("text").send(`n=${(req as Req).session.n} ${"x".repeat(2000)}`);
    });
    const get = client(await serve(app));
    for (const n of [1, 2, 3]) {
      const res = await get("/", { headers: { "accept-encoding": "gzip" } });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      expect(res.body.startsWith(`n=${n} `)).toBe(true);
    }
  });

  it("compression behind the session middleware works too", async () => {
    const app = make();
    app.use(session({ secret: SECRET }));
    app.use(compression({ threshold: 0 }));
    app.get("/", (req, res) => {
      (req as Req).session.n = (((req as Req).session.n as number) ?? 0) + 1;
      res.type("text").send(`n=${(req as Req).session.n} ${"y".repeat(2000)}`);
    });
    const get = client(await serve(app));
    expect((await get("/", { headers: { "accept-encoding": "gzip" } })).body.startsWith("n=1 ")).toBe(true);
    expect((await get("/", { headers: { "accept-encoding": "gzip" } })).body.startsWith("n=2 ")).toBe(true);
  });

  it("a streamed response gets its cookie when headers go out, and the save before it ends", async () => {
    const app = make();
    app.use(session({ secret: SECRET }));
    app.get("/stream", (req, res) => {
      (req as Req).session.n = (((req as Req).session.n as number) ?? 0) + 1;
      res.write("a");
      setTimeout(() => {
        (req as Req).session.late = true;
        res.end("b");
      }, 10);
    });
    app.get("/show", (req, res) => void res.json({ n: (req as Req).session.n, late: (req as Req).session.late }));
    const get = client(await serve(app));
    expect((await get("/stream")).body).toBe("ab");
    expect(JSON.parse((await get("/show")).body)).toEqual({ n: 1, late: true });
  });

  it("HEAD, res.end twice, and a handler that throws", async () => {
    const app = make();
    app.use(session({ secret: SECRET }));
    app.get("/", counter);
    const errors: string[] = [];
    app.get("/twice", (req, res) => {
      (req as Req).session.twice = true;
      res.on("error", (error: NodeJS.ErrnoException) => void errors.push(String(error.code)));
      res.end("once");
      res.end();
      // With a body, as on plain Node: an ERR_STREAM_WRITE_AFTER_END error on the response (no listener: a crash).
      res.end("again");
    });
    app.get("/throw", (req) => {
      (req as Req).session.threw = true;
      throw new Error("boom");
    });
    app.get("/show", (req, res) => void res.json({ n: (req as Req).session.n, twice: (req as Req).session.twice, threw: (req as Req).session.threw }));
    app.use(((_error, _req, res, _next) => void res.status(500).send("handled")) as express.ErrorRequestHandler);
    const get = client(await serve(app));
    expect((await get("/", { method: "HEAD" })).status).toBe(200);
    expect((await get("/twice")).body).toBe("once");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(errors).toEqual(["ERR_STREAM_WRITE_AFTER_END"]);
    expect((await get("/throw")).body).toBe("handled");
    expect(JSON.parse((await get("/show")).body)).toEqual({ n: 1, twice: true, threw: true });
  });

  it("pipelined requests on one connection each see their own session, and a finished request's session stays readable", async () => {
    const app = sessionApp(make);
    const afterFinish: unknown[] = [];
    app.get("/who", (req, res) => {
      res.on("finish", () => afterFinish.push((req as Req).session?.userId));
      const answer = (): void => {
        (req as Req).session.seen = req.query.slow ? "slow" : "fast";
        res.send(String((req as Req).session.userId));
      };
      if (req.query.slow) setTimeout(answer, 50);
      else answer();
    });
    app.get("/seen", (req, res) => void res.send(String((req as Req).session.seen)));
    const base = await serve(app);
    const [alice, bob] = [await loginCookie(base, "alice"), await loginCookie(base, "bob")];
    // Two requests written at once on one socket: the second is read while the first is still being answered.
    const { hostname, port } = new URL(base);
    const { connect } = await import("node:net");
    const socket = connect(Number(port), hostname);
    let raw = "";
    socket.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    const request = (path: string, cookie: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`;
    socket.write(request("/who?slow=1", alice) + request("/who", bob));
    await new Promise<void>((resolve) => {
      const check = (): void => void (raw.split("HTTP/1.1 200").length === 3 && /bob$/.test(raw) ? resolve() : setTimeout(check, 5));
      check();
    });
    socket.destroy();
    const bodies = raw.split("HTTP/1.1 200").slice(1).map((part) => part.split("\r\n\r\n")[1]);
    expect(bodies).toEqual(["alice", "bob"]);
    expect(afterFinish.sort()).toEqual(["alice", "bob"]);
    const seen = async (cookie: string): Promise<string> => (await fetch(`${base}/seen`, { headers: { cookie } })).text();
    expect([await seen(alice), await seen(bob)]).toEqual(["slow", "fast"]);
  });

  it("a request answered after requests on other connections were bound still sees, changes and ends with its own session", async () => {
    const app = sessionApp(make);
    app.get("/mark", (req, res) => {
      const delay = Number(req.query.delay ?? 0);
      setTimeout(() => {
        (req as Req).session.mark = req.query.mark;
        res.send(String((req as Req).session.userId));
      }, delay);
    });
    app.get("/mark/read", (req, res) => void res.send(String((req as Req).session.mark)));
    const base = await serve(app);
    const users = ["u0", "u1", "u2", "u3", "u4"];
    const cookies = await Promise.all(users.map((user) => loginCookie(base, user)));
    // The first request waits longest, so every later one is bound (on its own connection) before it answers.
    const bodies = await Promise.all(
      cookies.map((cookie, i) => fetch(`${base}/mark?delay=${(users.length - i) * 30}&mark=m${i}`, { headers: { cookie, connection: "close" } }).then((r) => r.text())),
    );
    expect(bodies).toEqual(users);
    const marks = await Promise.all(cookies.map(async (cookie) => (await fetch(`${base}/mark/read`, { headers: { cookie } })).text()));
    expect(marks).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });
});

describe("a bare http.createServer handler (no Express prototypes)", () => {
  it("binds with own properties, and delete req.session unsets the session", async () => {
    const middleware = session({ secret: SECRET, unset: "destroy" });
    const base = await serve((req, res) => {
      middleware(req, res, () => {
        const r = req as unknown as { session: Record<string, number>; url: string };
        const own = Object.prototype.hasOwnProperty.call(req, "session");
        if (r.url === "/drop") {
          delete (r as { session?: unknown }).session;
          res.end(`own=${own} after=${typeof (r as { session?: unknown }).session}`);
          return;
        }
        r.session.n = (r.session.n ?? 0) + 1;
        res.end(`n=${r.session.n}`);
      });
    });
    const get = client(base);
    expect((await get("/")).body).toBe("n=1");
    expect((await get("/drop")).body).toBe("own=true after=undefined");
    expect((await get("/")).body).toBe("n=1");
  });
});

describe("other libraries on the same Express", () => {
  it("an app without cloakroom that sets, reads and deletes req.session sees plain properties", async () => {
    const withCloakroom = express();
    withCloakroom.use(session({ secret: SECRET }));
    withCloakroom.get("/", counter);
    await client(await serve(withCloakroom))("/");
    const plain = express();
    plain.get("/", (req, res) => {
      const r = req as unknown as { session?: unknown };
      const before = r.session;
      r.session = { mine: true };
      const own = Object.prototype.hasOwnProperty.call(req, "session");
      delete r.session;
      res.json({ before: before ?? null, own, after: r.session ?? null });
    });
    expect(JSON.parse((await client(await serve(plain))("/")).body)).toEqual({ before: null, own: true, after: null });
  });
});
