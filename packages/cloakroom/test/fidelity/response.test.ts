/* eslint-disable @typescript-eslint/no-explicit-any -- scenarios read and write arbitrary session data, as app code does */
/**
 * How the middleware meets the response: other Set-Cookie headers, writeHead with headers, res.end twice, errors
 * setting the cookie, streamed bodies, HEAD, and store failures reaching the app's error handler.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect } from "vitest";
import { appWith, counter } from "./apps.js";
import { Client, diverges, options, same, type Lib } from "./harness.js";

describe("other cookies on the response", () => {
  same("a Set-Cookie set before writeHead is kept beside the session cookie", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = 1;
        res.setHeader("Set-Cookie", new lib.session.Cookie().serialize("previous", "cookieValue"));
        res.end();
      },
    });
    return client.get("/");
  });

  same("a Set-Cookie given to writeHead is kept beside the session cookie", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = 1;
        res.writeHead(200, { "Set-Cookie": new lib.session.Cookie().serialize("previous", "cookieValue") });
        res.end();
      },
    });
    return client.get("/");
  });

  same("a header array given to writeHead is kept", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = 1;
        res.writeHead(201, "Made", ["Set-Cookie", "previous=value", "X-Other", "1"]);
        res.end("made");
      },
    });
    return client.get("/");
  });
});

describe("res.end", () => {
  same("called twice behaves as on plain Node", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = 1;
        res.setHeader("Content-Type", "text/plain");
        res.end("Hello, world!");
        res.end();
      },
    });
    return client.get("/");
  });

  same("res.end(null)", async (lib) => {
    const client = await appWith(lib, {}, { "/": (req, res) => void ((req.session.views = 1), res.end(null)) });
    return client.get("/");
  });

  same("a streamed body (write, then end) gets the cookie and the save", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.write("part one, ");
        setTimeout(() => res.end(`views ${req.session.views}`), 5);
      },
    });
    return [await client.get("/"), await client.get("/")];
  });

  same("HEAD requests", async (lib) => {
    const client = await appWith(lib, {}, { "/": counter });
    return [await client.request("HEAD", "/"), await client.get("/")];
  });

  same("a handler that throws: the error handler answers and the session is saved", async (lib) => {
    const client = await appWith(lib, {}, {
      "/": (req) => {
        req.session.views = 1;
        throw new Error("handler failed");
      },
      "/read": (req, res) => void res.send(`views: ${req.session.views}`),
    });
    return [await client.get("/"), await client.get("/read")];
  });
});

/** A bare http server with the session middleware, as express-session's own tests build it. */
async function bareServer(lib: Lib, extra: Record<string, unknown>, respond: (req: any, res: http.ServerResponse) => void) {
  const middleware = lib.session(options(extra)) as unknown as (req: unknown, res: unknown, next: (e?: unknown) => void) => void;
  const errors: string[] = [];
  const server = http.createServer((req, res) => {
    middleware(req, res, (error?: unknown) => {
      if (error && !res.headersSent) {
        res.statusCode = (error as { status?: number }).status ?? 500;
        res.end((error as Error).message);
        return;
      }
      if (error) {
        errors.push((error as Error).message);
        return;
      }
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return { client, errors, close: () => server.close() };
}

describe("errors", () => {
  same("an error setting the cookie is forwarded to next; the response goes on without it", async (lib) => {
    const { client, errors, close } = await bareServer(lib, {}, (req, res) => {
      req.session.views = 1;
      req.session.cookie.expires = new Date(NaN);
      res.end("body");
    });
    const seen = await client.get("/");
    await new Promise((resolve) => setTimeout(resolve, 20));
    close();
    // cookie 0.7 (express-session's) and cookie 1 (ours) word it "option expires is invalid[: Invalid Date]".
    return { seen, errors: errors.map((e) => e.split(":")[0]) };
  });

  diverges("a store error while saving reaches the app's error handler", "store unreachable", async (lib) => {
    const store = new lib.session.MemoryStore();
    const client = await appWith(lib, { store }, { "/": counter });
    await client.get("/");
    store.set = (_sid, _sess, cb) => cb?.(new Error("write failed"));
    return client.get("/");
  }, (theirs, ours) => {
    expect(theirs.status).toBe(200);
    expect(ours).toMatchObject({ status: 503, body: "error: Session store unavailable (set)" });
  });

  same("a request without a cookie runs while the store fails to read", async (lib) => {
    const store = new lib.session.MemoryStore();
    store.get = (_sid, cb) => cb(new Error("read failed"));
    const client = await appWith(lib, { store, saveUninitialized: false }, { "/": (_req, res) => void res.send("ran") });
    return client.get("/");
  });
});

describe("the middleware itself", () => {
  same("runs on a bare http server", async (lib) => {
    const { client, close } = await bareServer(lib, {}, (req, res) => {
      req.session.views = (req.session.views ?? 0) + 1;
      res.end(`views ${req.session.views}`);
    });
    const seen = [await client.get("/"), await client.get("/")];
    close();
    return seen;
  });

  same("skips a request that already has req.session", async (lib) => {
    const client = await appWith(lib, {}, { "/": (req, res) => void res.json(req.session) }, [
      (req, _res, next) => {
        (req as { session?: unknown }).session = { preset: true };
        next();
      },
    ]);
    return client.get("/");
  });
});
