/* eslint-disable @typescript-eslint/no-explicit-any -- scenarios read and write arbitrary session data, as app code does */
/** The Express apps the fidelity scenarios run, the same code for both libraries. */
import express from "express";
import { options, serve, type Client, type LegacyStoreLike, type Lib } from "./harness.js";

export type SessionReq = express.Request & { session: Record<string, any> & { cookie: any }; sessionID: string; sessionStore: any };
export type Route = (req: SessionReq, res: express.Response, next: express.NextFunction) => void;

/**
 * An app with the session middleware of `lib` (express-session's defaults plus `extra`), the given routes, and an
 * error handler that shows the status and message (what an app's own handler would do).
 */
export async function appWith(lib: Lib, extra: Record<string, unknown>, routes: Record<string, Route>, before?: express.RequestHandler[]): Promise<Client> {
  const app = express();
  for (const handler of before ?? []) app.use(handler);
  app.use(lib.session(options(extra)));
  for (const [spec, route] of Object.entries(routes)) {
    const [method, path] = spec.includes(" ") ? spec.split(" ") : ["get", spec];
    (app as unknown as Record<string, (p: string, r: Route) => void>)[method!.toLowerCase()]!(path!, route);
  }
  app.use(((error, _req, res, _next) => {
    res.status(error.status ?? error.statusCode ?? 500).send(`error: ${error.message}`);
  }) as express.ErrorRequestHandler);
  return serve(app);
}

/** The README's view counter. */
export const counter: Route = (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1;
  res.send(`views: ${req.session.views}`);
};

/** Answers without touching the session. */
export const hello: Route = (_req, res) => {
  res.send("hello");
};

/** A user-written store (express-session's "Session Store Implementation"), logging which methods run. */
export function spyStore(lib: Lib, withTouch = true): { store: LegacyStoreLike; calls: string[] } {
  const calls: string[] = [];
  const sessions = new Map<string, string>();
  const Base = lib.session.Store;
  class SpyStore extends Base {
    override get(sid: string, cb: (e?: unknown, s?: unknown) => void): void {
      calls.push("get");
      const json = sessions.get(sid);
      setImmediate(() => cb(null, json ? JSON.parse(json) : null));
    }
    override set(sid: string, sess: object, cb?: (e?: unknown) => void): void {
      calls.push("set");
      sessions.set(sid, JSON.stringify(sess));
      setImmediate(() => cb?.());
    }
    override destroy(sid: string, cb?: (e?: unknown) => void): void {
      calls.push("destroy");
      sessions.delete(sid);
      setImmediate(() => cb?.());
    }
  }
  const store = new SpyStore() as unknown as LegacyStoreLike;
  if (withTouch) {
    store.touch = (_sid: string, _sess: object, cb?: (e?: unknown) => void) => {
      calls.push("touch");
      setImmediate(() => cb?.());
    };
  }
  return { store, calls };
}

