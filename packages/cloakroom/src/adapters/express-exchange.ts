/**
 * One request/response of cloakroom/express: what `req.session`, `req.sessionID` and `req.sessionStore` show, and
 * what happens when the response's headers go out and when it ends. One object per request (no closures): the
 * binding's accessors and the response prototype's interceptors find it through the request's socket.
 *
 * The commit runs inside `res.end`, before the response is finished, so the client never gets an answer before its
 * session is written (express-session sends all but the last byte first). STYLE.md: such interception stays here.
 */
import type { ServerResponse } from "node:http";
import type { SessionManager } from "../core/manager.js";
import { releaseResponse, type Binding, type EndFunction, type ResponseHooks } from "./express-binding.js";

/** The middleware's settings an exchange needs. */
export interface ExchangeSettings {
  /** `unset: "destroy"`: a request that drops `req.session` destroys the stored session. */
  unsetDestroys: boolean;
}

/** The response is open: the session's part of it is not decided yet. */
const OPEN = 0;
/** The store call of the commit is running; further res.end calls wait for it. */
const PENDING = 1;
/** This middleware is calling the real `end`: calls that come back through the interceptors pass straight through. */
const PASSING = 2;
/** The session's part is done; everything passes through (as on plain Node). */
const DONE = 3;

export class Exchange implements Binding, ResponseHooks {
  current: unknown;
  response: ResponseHooks | null = null;
  /** Whether req's session lives in own properties (a bare http server) rather than in this binding. */
  own = false;
  #phase = OPEN;
  /** res.end calls made while the commit runs, replayed after it (a second res.end behaves as on plain Node). */
  #queued: IArguments[] | null = null;

  constructor(
    readonly req: { session?: unknown },
    readonly manager: SessionManager,
    public session: unknown,
    public sessionID: unknown,
    public sessionStore: unknown,
    readonly settings: ExchangeSettings,
    readonly next: (error?: unknown) => void,
  ) {
    this.current = session;
  }

  beforeHeaders(res: ServerResponse, args: IArguments): unknown[] | IArguments {
    if (this.#phase !== OPEN) return args;
    const merged = mergeWriteHeadHeaders(res, args);
    const engine = this.current as object;
    if (this.#dropped()) {
      if (this.settings.unsetDestroys) return merged;
      this.manager.detach(engine);
    }
    let line: string | null;
    try {
      line = this.manager.prepare(engine);
    } catch (error) {
      setImmediate(this.next, error);
      return merged;
    }
    applyCookie(res, line);
    return merged;
  }

  end(res: ServerResponse, end: EndFunction, args: IArguments): boolean {
    const phase = this.#phase;
    if (phase === PASSING || phase === DONE) return false;
    if (phase === PENDING) {
      (this.#queued ??= []).push(args);
      return true;
    }
    const engine = this.current as object;
    const manager = this.manager;
    let destroying: Promise<void> | null = null;
    if (this.#dropped()) {
      if (this.settings.unsetDestroys) destroying = manager.destroy(engine);
      else manager.detach(engine);
    }
    if (destroying === null) {
      let plan;
      try {
        plan = manager.decide(engine);
      } catch (error) {
        this.#fail(res, end, args, error);
        return true;
      }
      if (plan.cookieError) setImmediate(this.next, plan.cookieError);
      // Nothing to write (the common read-only request): end now, no promise hop.
      if (plan.call.op === "none") {
        this.#finish(res, end, args, plan.setCookie);
        return true;
      }
      this.#phase = PENDING;
      manager.commit(engine, plan).then(
        (line) => this.#finish(res, end, args, line),
        (error: unknown) => this.#fail(res, end, args, error),
      );
      return true;
    }
    this.#phase = PENDING;
    destroying.then(() => manager.commit(engine)).then(
      (line) => this.#finish(res, end, args, line),
      (error: unknown) => this.#fail(res, end, args, error),
    );
    return true;
  }

  /** The app set `req.session` to null or another object, or deleted it (express-session's "unset"). */
  #dropped(): boolean {
    const shown = this.own ? this.req.session : this.session;
    return shown !== this.current;
  }

  #finish(res: ServerResponse, end: EndFunction, args: IArguments, line: string | null): void {
    applyCookie(res, line);
    this.#phase = PASSING;
    end.apply(res, args as unknown as unknown[]);
    this.#phase = DONE;
    releaseResponse(res);
    const queued = this.#queued;
    if (queued !== null) {
      this.#queued = null;
      for (const call of queued) end.apply(res, call as unknown as unknown[]);
    }
  }

  /**
   * The session could not be written. Fail closed: the client must not believe it was. Express's error handling
   * gets the error (a 503 SessionStoreUnavailableError), so the app's own handler answers; on a bare http server,
   * which has no error handling to hand it to, the answer is a plain 503. Headers already sent: the response ends as
   * written and the error goes to `next` afterwards, as express-session does.
   */
  #fail(res: ServerResponse, end: EndFunction, args: IArguments, error: unknown): void {
    this.#phase = DONE;
    this.#queued = null;
    releaseResponse(res);
    if (res.headersSent) {
      end.apply(res, args as unknown as unknown[]);
      setImmediate(this.next, error);
      return;
    }
    for (const header of res.getHeaderNames()) res.removeHeader(header);
    if (!this.own) {
      this.next(error);
      return;
    }
    res.statusCode = 503;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.setHeader("cache-control", "no-store");
    end.call(res, "Service Unavailable");
  }
}

/** Add the session's Set-Cookie line to the response, beside any the app set. */
function applyCookie(res: ServerResponse, line: string | null): void {
  if (line === null || res.headersSent) return;
  const previous = res.getHeader("set-cookie");
  res.setHeader("set-cookie", previous === undefined ? line : Array.isArray(previous) ? [...previous, line] : [String(previous), line]);
  // A response that sets a session cookie must never be stored by a shared cache (ASVS 5.0 V14.3.2).
  res.setHeader("cache-control", "no-store");
}

/**
 * Headers given to `writeHead(status, [message,] headers)` win over setHeader()'s in Node, so the session cookie set
 * just before would be lost: apply them with setHeader first, and pass writeHead only the status (what the on-headers
 * package does for express-session; written here because it wraps each response, which costs a hidden class).
 */
function mergeWriteHeadHeaders(res: ServerResponse, args: IArguments): unknown[] | IArguments {
  const headerIndex = args.length > 1 && typeof args[1] === "string" ? 2 : 1;
  const headers = args.length > headerIndex ? (args[headerIndex] as unknown) : undefined;
  if (!headers || typeof headers !== "object") return args;
  if (Array.isArray(headers)) {
    const grouped = new Map<string, unknown[]>();
    const pairs: unknown[][] = Array.isArray(headers[0]) ? headers : [];
    if (pairs.length === 0) for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([headers[i], headers[i + 1]]);
    for (const [name, value] of pairs) {
      const list = grouped.get(String(name)) ?? [];
      grouped.set(String(name), list);
      list.push(value);
    }
    for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? (values[0] as string) : (values as string[]));
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (value !== undefined) res.setHeader(name, value as string);
    }
  }
  res.statusCode = args[0] as number;
  if (headerIndex === 2) res.statusMessage = args[1] as string;
  return headerIndex === 2 ? [args[0], args[1]] : [args[0]];
}
