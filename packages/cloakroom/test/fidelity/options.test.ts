/**
 * express-session's options, each passed as its README documents it, against both libraries.
 */
import { describe, expect } from "vitest";
import cookieParser from "cookie-parser";
import { appWith, counter, hello } from "./apps.js";
import { SECRET, diverges, same, type Lib } from "./harness.js";

async function threeVisits(lib: Lib, extra: Record<string, unknown> = {}) {
  const client = await appWith(lib, extra, { "/": counter, "/hello": hello });
  return [await client.get("/"), await client.get("/"), await client.get("/hello")];
}

describe("with express-session's defaults passed explicitly", () => {
  same("the view counter: the cookie is set once, the session persists", (lib) => threeVisits(lib));

  same("saveUninitialized: true stores and sets a cookie for an untouched session", async (lib) => {
    const client = await appWith(lib, {}, { "/": hello });
    return [await client.get("/"), await client.get("/")];
  });

  same("saveUninitialized: false sets no cookie until the session is modified", async (lib) => {
    const client = await appWith(lib, { saveUninitialized: false }, { "/": hello, "/count": counter });
    return [await client.get("/"), await client.get("/count"), await client.get("/count")];
  });
});

describe("name (and its undocumented alias key)", () => {
  same("name sets the cookie name", (lib) => threeVisits(lib, { name: "app.sid" }));
  same("key is read when name is not given", (lib) => threeVisits(lib, { name: undefined, key: "legacy.sid" }));
});

describe("cookie", () => {
  same("maxAge makes a persistent cookie with Expires", async (lib) => (await threeVisits(lib, { cookie: { maxAge: 60_000 } })).slice(0, 2));
  diverges("a read-only request that slides a persistent session's idle window refreshes its cookie", "persistent cookie refresh", async (lib) => {
    return (await threeVisits(lib, { cookie: { maxAge: 60_000 } }))[2];
  }, (theirs, ours) => {
    expect(theirs.cookies).toEqual([]);
    expect(ours.cookies).toMatchObject([{ name: "connect.sid", attributes: { Expires: "60" } }]);
  });
  same("httpOnly: false, path, domain, priority and partitioned are written as given", (lib) =>
    threeVisits(lib, { cookie: { httpOnly: false, domain: "127.0.0.1", priority: "high", partitioned: true } }));
  for (const sameSite of [true, "lax", "strict", "none", "auto"]) {
    same(`sameSite: ${JSON.stringify(sameSite)}`, (lib) => threeVisits(lib, { cookie: { sameSite } }));
  }
  same("secure: true over plain HTTP sets no cookie", async (lib) => {
    const client = await appWith(lib, { cookie: { secure: true } }, { "/": counter });
    return [await client.get("/"), await client.get("/")];
  });
  same("secure: 'auto' over plain HTTP sets a cookie without Secure", (lib) => threeVisits(lib, { cookie: { secure: "auto" } }));
  same("a request outside cookie.path gets no session", async (lib) => {
    const client = await appWith(lib, { cookie: { path: "/app" } }, {
      "/app/count": counter,
      "/other": (req, res) => void res.send(`session: ${typeof req.session}`),
    });
    return [await client.get("/app/count"), await client.get("/other"), await client.get("/app/count")];
  });
  same("cookie as a function of the request (1.19)", async (lib) => {
    const cookie = (req: { url: string }) => ({ secure: false, sameSite: false, maxAge: req.url.startsWith("/long") ? 120_000 : 60_000 });
    const client = await appWith(lib, { cookie }, { "/long": counter, "/short": counter });
    return [await client.get("/long"), await (await appWith(lib, { cookie }, { "/short": counter })).get("/short")];
  });
});

describe("genid", () => {
  same("genid(req) makes the session id", async (lib) => {
    let n = 0;
    const seen: string[] = [];
    const genid = (req: { url: string }) => {
      seen.push(req.url);
      return `generated-session-id-${++n}-padding`;
    };
    const client = await appWith(lib, { genid }, { "/": counter });
    const first = await client.get("/");
    return { first, raw: client.rawIds, calledWith: seen };
  });
});

describe("proxy", () => {
  diverges("proxy: true, secure: true: a request that is not HTTPS loads no session", "secure cookie over plain HTTP", async (lib) => {
    const client = await appWith(lib, { proxy: true, cookie: { secure: true } }, { "/": counter });
    return [await client.get("/", { "x-forwarded-proto": "https" }), await client.get("/")];
  }, (theirs, ours) => {
    expect(ours[0]).toEqual(theirs[0]);
    expect(theirs[1].body).toBe("views: 2");
    expect(ours[1].body).toBe("views: 1");
  });
  for (const proxy of [false, undefined]) {
    same(`proxy: ${String(proxy)} with X-Forwarded-Proto: https and secure: true`, async (lib) => {
      const client = await appWith(lib, { proxy, cookie: { secure: true } }, { "/": counter });
      return [await client.get("/", { "x-forwarded-proto": "https" }), await client.get("/")];
    });
  }
});

describe("rolling", () => {
  same("rolling: true sends the cookie on every response", (lib) => threeVisits(lib, { rolling: true, cookie: { maxAge: 60_000 } }));
  same("rolling: true with saveUninitialized: false sets no cookie for an uninitialized session", async (lib) => {
    const client = await appWith(lib, { rolling: true, saveUninitialized: false }, { "/": hello });
    return [await client.get("/"), await client.get("/")];
  });
});

describe("secret", () => {
  same("an array signs with the first and verifies with all (rotation)", async (lib) => {
    const old = await appWith(lib, { secret: "an-old-secret-0123456789-abcdefgh" }, { "/": counter });
    await old.get("/");
    const rotated = await appWith(lib, { secret: ["a-new-secret-0123456789-abcdefghij", "an-old-secret-0123456789-abcdefgh"] }, { "/": counter });
    for (const [name, value] of old.jar) rotated.jar.set(name, value);
    return [(await rotated.get("/")).status, (await rotated.get("/")).body];
  });

  same("a Buffer secret", (lib) => threeVisits(lib, { secret: Buffer.from(SECRET) }));

  same("an empty array throws a TypeError at construction", async (lib) => {
    try {
      lib.session({ secret: [] });
      return "no error";
    } catch (error) {
      return { type: (error as Error).constructor.name, message: (error as Error).message };
    }
  });

  same("without a secret, cookie-parser's req.secret is used", async (lib) => {
    const client = await appWith(lib, { secret: undefined }, { "/": counter }, [cookieParser(SECRET)]);
    return [await client.get("/"), await client.get("/")];
  });

  same("without a secret and without req.secret, the request gets next(Error('secret option required for sessions'))", async (lib) => {
    const client = await appWith(lib, { secret: undefined }, { "/": counter });
    return client.get("/");
  });

  same("the session cookie is read from req.cookies and req.signedCookies (cookie-parser back-compat)", async (lib) => {
    const store = new lib.session.MemoryStore();
    const visit = await appWith(lib, { store }, { "/": counter });
    await visit.get("/");
    const value = decodeURIComponent(visit.jar.get("connect.sid")!);
    const sid = visit.rawIds[0]!;
    const viaCookies = await appWith(lib, { store }, { "/": counter }, [
      ((req: { cookies?: object }, _res: unknown, next: () => void) => {
        req.cookies = { "connect.sid": value };
        next();
      }) as never,
    ]);
    const viaSigned = await appWith(lib, { store }, { "/": counter }, [
      ((req: { signedCookies?: object }, _res: unknown, next: () => void) => {
        req.signedCookies = { "connect.sid": sid };
        next();
      }) as never,
    ]);
    return [(await viaCookies.get("/")).body, (await viaSigned.get("/")).body];
  });
});

describe("unset", () => {
  same("'keep' (default): req.session = null keeps the stored session and ignores the changes", async (lib) => {
    const client = await appWith(lib, { unset: "keep" }, {
      "/": counter,
      "/drop": (req, res) => {
        req.session.views = 100;
        (req as { session: unknown }).session = null;
        res.send("dropped");
      },
    });
    return [await client.get("/"), await client.get("/drop"), await client.get("/")];
  });

  diverges("'destroy': req.session = null destroys the stored session", "destroy()", async (lib) => {
    const client = await appWith(lib, { unset: "destroy", saveUninitialized: false }, {
      "/": counter,
      "/drop": (req, res) => {
        (req as { session: unknown }).session = null;
        res.send("dropped");
      },
    });
    return [await client.get("/"), await client.get("/drop"), await client.get("/")];
  }, (theirs, ours) => {
    expect(ours[0]).toEqual(theirs[0]);
    expect(ours[2]).toEqual(theirs[2]);
    expect(theirs[1].cookies).toEqual([]);
    // cloakroom also clears the cookie of the destroyed session.
    expect(ours[1].cookies).toMatchObject([{ name: "connect.sid", value: "" }]);
  });

  same("an unknown value throws a TypeError naming the option", async (lib) => {
    try {
      lib.session({ secret: SECRET, unset: "bogus" });
      return "no error";
    } catch (error) {
      return { type: (error as Error).constructor.name, message: (error as Error).message };
    }
  });
});

describe("divergences of the defaults", () => {
  diverges("a persistent cookie also carries Max-Age", "Max-Age beside Expires", async (lib) => {
    const client = await appWith(lib, { cookie: { maxAge: 60_000 } }, { "/": counter });
    const response = await fetch(`${(client as unknown as { base: string }).base}/`);
    return response.headers.getSetCookie()[0];
  }, (theirs: string, ours: string) => {
    expect(theirs).not.toMatch(/Max-Age/);
    expect(ours).toMatch(/Max-Age=60;/);
  });
});
