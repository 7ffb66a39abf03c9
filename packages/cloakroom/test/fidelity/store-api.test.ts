/**
 * `session.MemoryStore`, `session.Store` and the "Session Store Implementation" contract, used the way
 * express-session code and tests use them: callbacks keyed by `req.sessionID`, methods replaced on an instance to
 * simulate failures, user-written stores that extend `session.Store`, and store events.
 */
import { describe, expect } from "vitest";
import { appWith, counter, spyStore } from "./apps.js";
import { call, diverges, heldSessions, normalizeStored, same } from "./harness.js";

describe("session.MemoryStore with express-session's callback API, keyed by req.sessionID", () => {
  same("get, set, touch, destroy, length, all and clear", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/api": async (req, res) => {
        const sid = req.sessionID;
        const got = await call((cb) => store.get(sid, cb));
        const stored = got.value as Record<string, unknown>;
        const setResult = await call((cb) => store.set(sid, { ...stored, views: 7 }, cb));
        const touched = await call((cb) => store.touch!(sid, stored, cb));
        const length = await call((cb) => store.length!(cb));
        const all = await heldSessions(store);
        const destroyed = await call((cb) => store.destroy(sid, cb));
        const afterDestroy = await call((cb) => store.get(sid, cb));
        const cleared = await call((cb) => store.clear!(cb));
        res.json({ got: normalizeStored(stored), setResult, touched, length, all, destroyed, afterDestroy: afterDestroy.value ?? null, cleared });
      },
    });
    await client.get("/");
    return client.get("/api");
  });

  diverges("load(sid) gives a Session whose save() writes back; the request's own unchanged copy does not overwrite it", "resave", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/load": (req, res) => {
        store.load!(req.sessionID, (error, loaded) => {
          const s = loaded as { views: number; cookie: { originalMaxAge: unknown }; save(cb: () => void): void; id: string };
          s.views = 99;
          s.save(() => res.json({ error: error ?? null, id: s.id === req.sessionID, views: 99, cookie: s.cookie.originalMaxAge }));
        });
      },
    });
    await client.get("/");
    return [await client.get("/load"), await client.get("/")];
  }, (theirs, ours) => {
    expect(ours[0]).toEqual(theirs[0]);
    // express-session's resave: true writes the request's copy (views: 1) back over the loaded session's save.
    expect(theirs[1].body).toBe("views: 2");
    // cloakroom writes only what the request changed (nothing): the save of views = 99 stands.
    expect(ours[1].body).toBe("views: 100");
  });

  same("createSession(req, sess) turns stored data into req.session", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/create": (req, res) => {
        store.get(req.sessionID, (_e, stored) => {
          const created = store.createSession!(req, { ...(stored as object), views: 5 });
          res.json({ same: created === req.session, views: req.session.views, maxAge: req.session.cookie.originalMaxAge });
        });
      },
    });
    await client.get("/");
    return client.get("/create");
  });

  same("regenerate(req) through the store", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, {
      "/": counter,
      "/regen": (req, res) => {
        const before = req.sessionID;
        store.regenerate!(req, (error) => res.json({ error: error ?? null, changed: req.sessionID !== before, views: req.session.views ?? null }));
      },
    });
    return [await client.get("/"), await client.get("/regen"), await client.get("/")];
  });

  diverges("a store.get replaced on the instance is used; its error reaches the app's error handler", "store unreachable", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, { "/": counter });
    const first = await client.get("/");
    store.get = (_sid, cb) => cb(new Error("boom!"));
    return [first, await client.get("/")];
  }, (theirs, ours) => {
    expect(theirs[1]).toMatchObject({ status: 500, body: "error: boom!" });
    expect(ours[1]).toMatchObject({ status: 503, body: "error: Session store unavailable (get)" });
    expect(ours[0]).toEqual(theirs[0]);
  });

  same("an ENOENT error from get means 'not found'", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, { "/": counter });
    await client.get("/");
    store.get = (_sid, cb) => cb(Object.assign(new Error("gone"), { code: "ENOENT" }));
    return client.get("/");
  });

  diverges("a store.set replaced on the instance is used; its error reaches the app's error handler", "store unreachable", async (lib) => {
    const store = new lib.session.MemoryStore();
    store.set = (_sid, _sess, cb) => cb?.(new Error("disk full"));
    const errors: string[] = [];
    const client = await appWith(lib, { store }, { "/": counter });
    const seen = await client.get("/");
    return { status: seen.status, body: seen.body, cookies: seen.cookies.map((c) => c.name), errors };
  }, (theirs, ours) => {
    // express-session has already written the status and all but the last byte when the save fails: the error
    // handler cannot answer any more, and the client gets the 200 (the test app's handler is skipped).
    expect(theirs.status).toBe(200);
    // cloakroom holds the response until the store answered, so the app's error handler answers instead.
    expect(ours).toMatchObject({ status: 503, body: "error: Session store unavailable (create)", cookies: [] });
  });

  same("the store's 'disconnect' and 'connect' events", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store, saveUninitialized: false }, {
      "/": (req, res) => void res.send(`session: ${typeof req.session}`),
    });
    store.emit("disconnect");
    const down = await client.get("/");
    store.emit("connect");
    return [down, await client.get("/")];
  });
});

describe("a user-written store extending session.Store", () => {
  same("with express-session's defaults: which methods run", async (lib) => {
    const { store, calls } = spyStore(lib);
    const client = await appWith(lib, { store }, { "/": counter, "/read": (req, res) => void res.send(`views: ${req.session.views}`) });
    const seen = [await client.get("/"), await client.get("/"), await client.get("/read")];
    return { seen, calls };
  });

  diverges("resave: false, unmodified request: touch only after touchAfter", "store writes on read-only requests", async (lib) => {
    const { store, calls } = spyStore(lib);
    const client = await appWith(lib, { store, resave: false }, { "/": counter, "/read": (req, res) => void res.send(`views: ${req.session.views}`) });
    await client.get("/");
    calls.length = 0;
    await client.get("/read");
    return calls;
  }, (theirs, ours) => {
    expect(theirs).toEqual(["get", "touch"]);
    expect(ours).toEqual(["get"]);
  });

  same("resave: false, unmodified request, touchAfter: 0 (express-session's exact behaviour)", async (lib) => {
    const { store, calls } = spyStore(lib);
    const extra = lib.name === "cloakroom" ? { touchAfter: 0 } : {};
    const client = await appWith(lib, { store, resave: false, ...extra }, { "/": counter, "/read": (req, res) => void res.send(`views: ${req.session.views}`) });
    await client.get("/");
    calls.length = 0;
    await client.get("/read");
    return calls;
  });

  same("a store without touch gets set instead when resave is on", async (lib) => {
    const { store, calls } = spyStore(lib, false);
    const client = await appWith(lib, { store }, { "/": counter, "/read": (req, res) => void res.send(`views: ${req.session.views}`) });
    await client.get("/");
    calls.length = 0;
    await client.get("/read");
    return calls;
  });
});

describe("session.Cookie standalone", () => {
  same("defaults, data, serialize and toJSON", async (lib) => {
    const cookie = new lib.session.Cookie();
    return { data: cookie.data, json: JSON.parse(JSON.stringify(cookie)), serialized: cookie.serialize("name", "value"), maxAge: cookie.maxAge, original: cookie.originalMaxAge };
  });

  same("maxAge makes expires; originalMaxAge is kept", async (lib) => {
    const cookie = new lib.session.Cookie({ maxAge: 60_000, httpOnly: false, path: "/x" });
    // express-session derives originalMaxAge from two Date.now() reads (60000 or 59999): compare in seconds.
    return { maxAge: Math.round(cookie.maxAge! / 1000), original: Math.round(cookie.originalMaxAge! / 1000), expires: cookie.expires instanceof Date, httpOnly: cookie.httpOnly, path: cookie.path };
  });

  same("bad options throw TypeErrors", async (lib) => {
    const attempt = (make: () => unknown) => {
      try {
        make();
        return "no error";
      } catch (error) {
        return `${(error as Error).constructor.name}: ${(error as Error).message}`;
      }
    };
    return [attempt(() => new lib.session.Cookie(42)), attempt(() => new lib.session.Cookie({ maxAge: "soon" }))];
  });
});

describe("session.Session", () => {
  same("new Session(req, data) merges data and keeps id and req non-enumerable", async (lib) => {
    const store = new lib.session.MemoryStore();
    const req = { sessionID: "some-session-id-0123456789", sessionStore: store };
    const s = new lib.session.Session(req, { views: 3, id: "ignored" });
    return { keys: Object.keys(s), id: s.id, views: s.views, req: s.req === req };
  });
});
