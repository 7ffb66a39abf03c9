/* eslint-disable @typescript-eslint/no-explicit-any -- scenarios read and write arbitrary session data, as app code does */
/**
 * The rest of express-session's README walked through: its login example, `cookie.expires` as an option, two session
 * middlewares in one app, and each documented divergence of the README's migration table, asserted as documented.
 */
import express from "express";
import { describe, expect } from "vitest";
import { appWith, counter, spyStore } from "./apps.js";
import { diverges, options, same, serve, type Lib } from "./harness.js";

/** express-session's README "User login" example, route for route. */
async function loginExample(lib: Lib) {
  const app = express();
  app.use(lib.session(options({ saveUninitialized: false, resave: false })));
  const isAuthenticated: express.RequestHandler = (req, _res, next) => ((req as any).session.user ? next() : next("route"));
  app.get("/", isAuthenticated, (req, res) => void res.send(`hello, ${(req as any).session.user}! <a href="/logout">Logout</a>`));
  app.get("/", (_req, res) => void res.send("login form"));
  app.post("/login", express.urlencoded({ extended: false }), (req, res, next) => {
    const s = (req as any).session;
    s.regenerate((err?: unknown) => {
      if (err) return next(err);
      (req as any).session.user = req.body.user;
      (req as any).session.save((saveErr?: unknown) => (saveErr ? next(saveErr) : res.redirect("/")));
    });
  });
  app.get("/logout", (req, res, next) => {
    (req as any).session.user = null;
    (req as any).session.save((err?: unknown) => {
      if (err) return next(err);
      (req as any).session.regenerate((regenErr?: unknown) => (regenErr ? next(regenErr) : res.redirect("/")));
    });
  });
  const client = await serve(app);
  const seen = [await client.get("/")];
  seen.push(await client.request("POST", "/login", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "user=tj" }));
  seen.push(await client.get("/"));
  seen.push(await client.get("/logout"));
  seen.push(await client.get("/"));
  return seen.map(({ status, body }) => ({ status, body }));
}

describe("express-session's README examples", () => {
  same("the user login example: regenerate, save, redirect; logout", loginExample);
});

describe("cookie.expires as an option", () => {
  same("a fixed expiry date", async (lib) => {
    const expires = new Date(Date.now() + 3600_000);
    const client = await appWith(lib, { cookie: { expires } }, { "/": counter });
    return [await client.get("/"), await client.get("/")];
  });
  same("with maxAge too, the last one given wins", async (lib) => {
    const expires = new Date(Date.now() + 3600_000);
    const client = await appWith(lib, { cookie: { maxAge: 60_000, expires } }, { "/": counter });
    return client.get("/");
  });
});

describe("two session middlewares in one app", () => {
  same("under different names and paths: the first that applies wins, the other skips", async (lib) => {
    const app = express();
    app.use("/admin", lib.session(options({ name: "admin.sid", cookie: { path: "/admin" } })));
    app.use(lib.session(options({ name: "site.sid" })));
    app.get("/admin/count", counter as never);
    app.get("/count", counter as never);
    const client = await serve(app);
    return [await client.get("/admin/count"), await client.get("/count"), await client.get("/admin/count"), await client.get("/count")];
  });
});

describe("the README's recipe to keep express-session's exact behaviour", () => {
  same("the same answers and the same store calls, visit after visit", async (lib) => {
    const recipe = { touchAfter: 0, idleTimeout: 14 * 24 * 3600_000, absoluteTimeout: 400 * 24 * 3600_000 };
    for (const resave of [true, false]) {
      const { store, calls } = spyStore(lib);
      const client = await appWith(lib, { store, resave, ...(lib.name === "cloakroom" ? recipe : {}) }, {
        "/": counter,
        "/read": (req, res) => void res.send(`views: ${req.session.views}`),
      });
      const seen = [await client.get("/"), await client.get("/read"), await client.get("/"), await client.get("/read")];
      (recipeRuns[lib.name] ??= []).push({ resave, seen, calls });
    }
    return recipeRuns[lib.name];
  });
});

const recipeRuns: Record<string, unknown[]> = {};

describe("documented divergences (README: Migrating from express-session)", () => {
  diverges("tickets are 256-bit and kept as SHA-256 hashes; store keys are not session ids", "ticket", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, { "/": (req, res) => void res.send(req.sessionID) });
    await client.get("/");
    const sid = client.rawIds[0]!;
    const keys = await new Promise<string[]>((resolve) => store.all!((_e, all) => resolve(Object.keys(all as object))));
    return { length: sid.length, keyIsId: keys[0] === sid };
  }, (theirs, ours) => {
    expect(theirs).toEqual({ length: 32, keyIsId: true });
    expect(ours).toEqual({ length: 43, keyIsId: false });
  });

  diverges("genid must return 16 to 256 characters", "genid", async (lib) => {
    const client = await appWith(lib, { genid: () => "short" }, { "/": counter });
    return client.get("/");
  }, (theirs, ours) => {
    expect(theirs.status).toBe(200);
    expect(ours).toMatchObject({ status: 500, body: "error: genid option must return a string of 16 to 256 characters" });
  });

  diverges("a response that sets the session cookie is not cacheable", "responses that set the cookie", async (lib) => {
    const client = await appWith(lib, {}, { "/": counter });
    const response = await fetch(`${(client as unknown as { base: string }).base}/`);
    return response.headers.get("cache-control");
  }, (theirs, ours) => {
    expect(theirs).toBeNull();
    expect(ours).toBe("no-store");
  });

  diverges("two different valid session cookies under one name give no session", "duplicate session cookies", async (lib) => {
    const client = await appWith(lib, {}, { "/": counter });
    await client.get("/");
    const first = client.jar.get("connect.sid")!;
    client.jar.clear();
    await client.get("/");
    const second = client.jar.get("connect.sid")!;
    return (await client.get("/", { cookie: `connect.sid=${first}; connect.sid=${second}` })).body;
  }, (theirs, ours) => {
    expect(theirs).toBe("views: 2");
    expect(ours).toBe("views: 1");
  });

  diverges("assigning the identity key rotates the ticket (login), keeping the data", "login", async (lib) => {
    const client = await appWith(lib, { saveUninitialized: false }, {
      "/": counter,
      "/login": (req, res) => {
        req.session.userId = "alice";
        res.send(`views: ${req.session.views}`);
      },
    });
    await client.get("/");
    const login = await client.get("/login");
    return { cookies: login.cookies.map((c) => c.value), after: (await client.get("/")).body };
  }, (theirs, ours) => {
    expect(theirs).toEqual({ cookies: [], after: "views: 2" });
    expect(ours).toEqual({ cookies: ["s:id2.sig"], after: "views: 2" });
  });

  diverges("destroy() also clears the cookie", "destroy()", async (lib) => {
    const client = await appWith(lib, {}, { "/": counter, "/logout": (req, res) => void req.session.destroy(() => res.send("bye")) });
    await client.get("/");
    return (await client.get("/logout")).cookies;
  }, (theirs, ours) => {
    expect(theirs).toEqual([]);
    expect(ours).toMatchObject([{ name: "connect.sid", value: "" }]);
  });

  diverges("sessions expire on the server after the idle timeout, whatever the cookie says", "session lifetime", async (lib) => {
    // express-session ignores these two options; cloakroom's default idle timeout is 30 minutes.
    const client = await appWith(lib, { idleTimeout: 300, touchAfter: 0 }, { "/": counter });
    await client.get("/");
    await new Promise((resolve) => setTimeout(resolve, 450));
    return (await client.get("/")).body;
  }, (theirs, ours) => {
    expect(theirs).toBe("views: 2");
    expect(ours).toBe("views: 1");
  });
});
