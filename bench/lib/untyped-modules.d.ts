/**
 * The little of two untyped packages that the bench uses (no @types packages are installed for them).
 */
declare module "express-session" {
  import type { RequestHandler } from "express";

  interface ExpressSessionStore {
    set(sid: string, session: object, callback?: (error?: unknown) => void): void;
    all(callback: (error: unknown, sessions?: unknown) => void): void;
    length(callback: (error: unknown, length?: number) => void): void;
  }
  interface SessionFactory {
    (options: { secret: string; resave: boolean; saveUninitialized: boolean; store?: object }): RequestHandler;
    MemoryStore: new () => ExpressSessionStore;
  }
  const session: SessionFactory;
  export default session;
}

declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    }
    interface Histogram {
      average: number;
      total: number;
      p50: number;
      p99: number;
    }
    interface Result {
      requests: Histogram;
      latency: Histogram;
      duration: number;
      non2xx: number;
      errors: number;
      timeouts: number;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      requests?: Request[];
    }
    interface Instance extends PromiseLike<Result> {
      on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, time: number) => void): this;
    }
  }
  function autocannon(options: autocannon.Options): autocannon.Instance;
  export default autocannon;
}
