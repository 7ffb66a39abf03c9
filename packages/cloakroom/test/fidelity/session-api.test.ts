/**
 * `req.session`, `req.sessionID` and `req.sessionStore` as express-session's README describes them.
 */
import { describe, expect } from "vitest";
import { appWith, counter, type Route } from "./apps.js";
import { diverges, heldSessions, same } from "./harness.js";

const show: Route = (req, res) => {
  res.json({ keys: Object.keys(req.session), json: JSON.parse(JSON.stringify(req.session)), forIn: forInKeys(req.session) });
};

function forInKeys(object: object): string[] {
  const keys: string[] = [];
  for (const key in object) keys.push(key);
  return keys;
}

describe("req.session", () => {
  same("enumerates cookie and its data keys; methods are not enumerable", async (lib) => {
    const client = await appWith(lib, {}, { "/": counter, "/show": show });
    return [await client.get("/show"), await client.get("/"), await client.get("/show")];
  });

  same("nested objects persist (the README's per-path view counter)", async (lib) => {
    const client = await appWith(lib, {}, {
      "/:page": (req, res) => {
        const page = String(req.params.page);
        req.session.views ??= {};
        req.session.views[page] = (req.session.views[page] ?? 0) + 1;
        res.send(`you viewed this page ${req.session.views[page]} times`);
      },
    });
    return [await client.get("/foo"), await client.get("/foo"), await client.get("/bar")];
  });

  same("req.session.id and req.sessionID are the same string, and id cannot be assigned", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = 1;
        let assignError = "none";
        try {
          (req.session as { id: string }).id = "changed";
        } catch (error) {
          assignError = (error as Error).constructor.name;
        }
        res.json({ same: req.session.id === req.sessionID, type: typeof req.session.id, assignError, kept: req.session.id !== "changed" });
      },
    });
    await client.get("/");
    return client.get("/");
  });

  same("req.sessionStore is the store", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, { "/": (req, res) => void res.send(String(req.sessionStore === store)) });
    return client.get("/");
  });

  same("regenerate() gives a new id and an empty session, as a new object", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": counter,
      "/regenerate": (req, res, next) => {
        const before = req.session;
        req.session.regenerate((error?: unknown) => {
          if (error) return next(error);
          res.json({ views: req.session.views ?? null, newObject: req.session !== before, keys: Object.keys(req.session) });
        });
      },
    });
    return [await client.get("/"), await client.get("/regenerate"), await client.get("/")];
  });

  same("destroy() unsets req.session and deletes the stored session", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store, saveUninitialized: false }, {
      "/": counter,
      "/destroy": (req, res, next) => {
        req.session.destroy((error?: unknown) => {
          if (error) return next(error);
          res.json({ session: typeof req.session });
        });
      },
    });
    await client.get("/");
    const held = (await heldSessions(store)).length;
    const destroyed = await client.request("GET", "/destroy");
    return { held, destroyed: { status: destroyed.status, body: destroyed.body }, after: (await heldSessions(store)).length };
  });

  same("reload() re-reads what another request stored", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/reload": (req, res, next) => {
        store.get(req.sessionID, (error, stored) => {
          if (error) return next(error);
          store.set(req.sessionID, { ...(stored as object), views: 41 }, () => {
            req.session.reload((err?: unknown) => (err ? next(err) : res.send(`views: ${req.session.views}`)));
          });
        });
      },
    });
    return [await client.get("/"), await client.get("/reload"), await client.get("/")];
  });

  same("reload() of a session that is gone fails with 'failed to load session'", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/reload": (req, res, next) => {
        store.destroy(req.sessionID, () => req.session.reload((err?: unknown) => (err ? next(err) : res.send("reloaded"))));
      },
    });
    await client.get("/");
    return client.get("/reload");
  });

  same("save() stores the session before a redirect is sent", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store, saveUninitialized: false }, {
      "/login": (req, res, next) => {
        req.session.user = "alice";
        req.session.save((error?: unknown) => {
          if (error) return next(error);
          // The README's login example: the next request already sees the saved session.
          heldSessions(store).then((held) => res.redirect(`/?held=${held.length}`));
        });
      },
      "/": (req, res) => void res.send(`user: ${req.session.user ?? "none"}`),
    });
    const login = await client.get("/login");
    return [login.status, login.body, login.cookies.map((c) => c.name), (await client.get("/")).body];
  });

  same("touch() and resetMaxAge() return the session", async (lib) => {
    const client = await appWith(lib, { cookie: { maxAge: 60_000 } }, {
      "/": (req, res) => {
        res.json({ touch: req.session.touch() === req.session, reset: req.session.resetMaxAge() === req.session });
      },
    });
    return client.get("/");
  });
});

describe("req.session.cookie", () => {
  same("maxAge counts down, originalMaxAge stays", async (lib) => {
    const client = await appWith(lib, { cookie: { maxAge: 60_000 } }, {
      "/": (req, res) => {
        req.session.views = 1;
        const cookie = req.session.cookie;
        // originalMaxAge comes from two clock reads in express-session (60000 or 59999): compared in seconds.
        res.json({ maxAge: Math.round(cookie.maxAge / 1000), original: Math.round(cookie.originalMaxAge / 1000), expires: typeof cookie.expires, httpOnly: cookie.httpOnly, path: cookie.path });
      },
    });
    return client.get("/");
  });

  same("a browser-session cookie has maxAge null and expires null", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => void res.json({ maxAge: req.session.cookie.maxAge, original: req.session.cookie.originalMaxAge, expires: req.session.cookie.expires ?? null }),
    });
    return client.get("/");
  });

  diverges("a maxAge beyond the absolute timeout is capped by it", "session lifetime", async (lib) => {
    const client = await appWith(lib, {}, {
      "/remember": (req, res) => {
        req.session.cookie.maxAge = 7 * 24 * 3600_000;
        req.session.remember = true;
        res.send("remembered");
      },
    });
    return client.get("/remember");
  }, (theirs, ours) => {
    expect(theirs.cookies[0].attributes.Expires).toBe("604800");
    expect(ours.cookies[0].attributes.Expires).toBe("43200");
  });

  same("setting maxAge (remember me) changes that response's Set-Cookie (absoluteTimeout raised to allow it)", async (lib) => {
    const client = await appWith(lib, lib.name === "cloakroom" ? { absoluteTimeout: 30 * 24 * 3600_000 } : {}, {
      "/": counter,
      "/remember": (req, res) => {
        req.session.cookie.maxAge = 7 * 24 * 3600_000;
        req.session.remember = true;
        res.send("remembered");
      },
    });
    return [await client.get("/"), await client.get("/remember"), await client.get("/")];
  });

  same("setting expires changes that response's Set-Cookie; expires = false makes a browser-session cookie", async (lib) => {
    const client = await appWith(lib, { cookie: { maxAge: 60_000 } }, {
      "/": counter,
      "/expires": (req, res) => {
        req.session.cookie.expires = new Date(Date.now() + 3600_000);
        req.session.views = 10;
        res.send("expires");
      },
      "/forget": (req, res) => {
        req.session.cookie.expires = false;
        req.session.views = 20;
        res.send("forget");
      },
    });
    return [await client.get("/"), await client.get("/expires"), await client.get("/forget")];
  });

  same("the maxAge a session was given is kept in the store", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store, resave: false }, {
      "/remember": (req, res) => {
        req.session.cookie.maxAge = 3600_000;
        req.session.user = "bob";
        res.send("ok");
      },
      "/": (req, res) => void res.json({ original: Math.round(req.session.cookie.originalMaxAge / 1000) }),
    });
    await client.get("/remember");
    return [await client.get("/"), await heldSessions(store)];
  });
});

describe("req.sessionID", () => {
  diverges("is null until the session is stored", "req.sessionID", async (lib) => {
    const client = await appWith(lib, { saveUninitialized: false }, { "/": (req, res) => void res.json({ id: typeof req.sessionID }) });
    return client.get("/");
  }, (theirs, ours) => {
    expect(JSON.parse(theirs.body)).toEqual({ id: "string" });
    expect(JSON.parse(ours.body)).toEqual({ id: "object" });
  });
});
