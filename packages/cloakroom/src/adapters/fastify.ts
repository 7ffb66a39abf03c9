/**
 * `cloakroom/fastify` — a Fastify 5 plugin: `request.session` with property access and @fastify/session's API
 * (callbacks or Promises), the engine at `fastify.sessionManager`. The session is loaded in an `onRequest` hook and
 * committed in an `onSend` hook, before the headers go out: no response patching. All session logic lives in core/.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, Session } from "fastify";
import fp from "fastify-plugin";
import type { CookieOptions } from "../core/cookie.js";
import type { ClientFacts } from "../core/manager-helpers.js";
import type { RequestContext, SessionManager } from "../core/manager.js";
import type { SessionData, SessionStore } from "../core/types.js";
import type { LegacyStore } from "../stores/legacy.js";
import { underPathMatch } from "./cookie-path.js";
import { fromFastifySessionOptions, type FastifySessionOptions } from "./fastify-options.js";
import { createManager, resolveCommonOptions, resolveEngineStore } from "./options.js";
import { PromiseSession } from "./promise-session.js";


/**
 * `request.session`: data as properties, @fastify/session's `get`/`set`/`sessionId`/`isModified`/`isSaved`/`options`,
 * lifecycle methods with a callback or a Promise. Data keys are typed from cloakroom's `SessionData` and, for code
 * written for @fastify/session, from fastify's `Session` (both by declaration merging).
 */
export type FastifySession = PromiseSession & Partial<SessionData> & Partial<Session>;

/** The client's address for a new record's meta (the User-Agent is in the context): `request.ip` honours `trustProxy`. */
function clientOf(request: unknown): ClientFacts {
  return { ip: (request as FastifyRequest).ip };
}

/** Sessions whose commit failed: Fastify sends the error reply through onSend again, which must pass untouched. */
const failed = new WeakSet<object>();

const plugin: FastifyPluginCallback<FastifySessionOptions> = (fastify, options, done) => {
  let manager: SessionManager;
  let common: ReturnType<typeof resolveCommonOptions>;
  let given: SessionStore | LegacyStore;
  try {
    const read = fromFastifySessionOptions(options);
    common = resolveCommonOptions(read.options, read.ownKeys);
    const { store, hashKeys } = resolveEngineStore(options.store, common.engine, common.cookie);
    manager = createManager(common, { secret: options.secret, store, hashKeys, client: clientOf });
    given = options.store ?? store;
  } catch (error) {
    done(error as Error);
    return;
  }
  const { cookieOf, cookie: staticCookie } = common;
  // A decorator with a null default keeps one request shape (Fastify's advice): the hook only assigns it.
  fastify.decorateRequest("session", null as never);
  fastify.decorate("sessionManager", manager);
  // @fastify/session's `request.sessionStore`: the store as given, on the prototype (nothing per request).
  fastify.decorateRequest("sessionStore", { getter: () => given });

  fastify.addHook("onRequest", (request, _reply, next) => {
    const context: RequestContext = {
      cookieHeader: request.headers.cookie,
      secure: request.protocol === "https",
      userAgent: request.headers["user-agent"],
      request,
      cookie: undefined,
      // The connection: a keep-alive client's repeated Cookie header is verified once (the engine's memo).
      connection: request.raw.socket,
    };
    let loaded: PromiseSession | Promise<PromiseSession>;
    try {
      if (cookieOf !== undefined) context.cookie = cookieOf(request);
      // Outside cookie.path, @fastify/session's answer: an empty object, no store lookup, no Set-Cookie.
      if (!underPathMatch(request.raw.url ?? "/", (context.cookie ?? staticCookie).path ?? "/")) {
        request.session = {} as FastifySession;
        next();
        return;
      }
      loaded = manager.loadNow(context, PromiseSession.create);
    } catch (error) {
      next(error as Error);
      return;
    }
    // A session at hand (no cookie, or a store that answered from memory) goes on at once: no promise hop.
    if (!(loaded instanceof Promise)) {
      request.session = loaded;
      next();
      return;
    }
    loaded.then((session) => {
      request.session = session;
      next();
    }, next);
  });

  fastify.addHook("onSend", (request, reply, payload, next) => {
    const session = request.session as FastifySession | null;
    // No session (a request outside cookie.path has a plain object), or one whose commit already failed.
    if (!(session instanceof PromiseSession) || failed.has(session)) return next(null, payload);
    let plan;
    try {
      plan = manager.decide(session);
    } catch (error) {
      return next(error as Error);
    }
    // Nothing to write (the common read-only request): no promise hop.
    if (plan.call.op === "none") {
      applyCookie(reply, plan.setCookie);
      return next(null, payload);
    }
    manager.commit(session, plan).then(
      (line) => {
        applyCookie(reply, line);
        next(null, payload);
      },
      (error: unknown) => {
        // Fail closed: the client must not believe the session was written. Fastify's error handler answers (503).
        failed.add(session);
        for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
        next(error as Error);
      },
    );
  });
  done();
};

/** Add the session's Set-Cookie line beside any the route set (Fastify appends set-cookie values). */
function applyCookie(reply: FastifyReply, line: string | null): void {
  if (line === null) return;
  reply.header("set-cookie", line);
  // A response that sets a session cookie must never be stored by a shared cache (ASVS 5.0 V14.3.2).
  reply.header("cache-control", "no-store");
}

/**
 * The plugin. Register it before the routes that use sessions; it is not encapsulated (fastify-plugin), so
 * `request.session` reaches every route of the instance it is registered on.
 * @throws {TypeError} (from `register`/`ready`) naming the option, for bad configuration
 * @example
 * import Fastify from "fastify";
 * import cloakroom from "cloakroom/fastify";
 * const app = Fastify();
 * await app.register(cloakroom, { secret: process.env.SESSION_SECRET! });
 * app.post("/login", async (request) => { request.session.userId = user.id; return "Logged in"; }); // ticket rotated
 */
const cloakroom = fp(plugin, { fastify: "5.x", name: "cloakroom" });
export default cloakroom;
export { cloakroom, PromiseSession as Session };
export type { CookieOptions, SessionStore, SessionManager, FastifyInstance, FastifySessionOptions };

declare module "fastify" {
  /** @fastify/session's place for session data types (`declare module "fastify" { interface Session { … } }`). */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface so users can merge into it
  interface Session {}
  interface FastifyRequest {
    /** The session (cloakroom/fastify). Data keys come from `SessionData` (declaration merging). */
    session: FastifySession;
    /** The `store` option as given (the default MemoryStore when none was), as @fastify/session's `request.sessionStore`. */
    readonly sessionStore: SessionStore | LegacyStore;
  }
  interface FastifyInstance {
    /** The engine: list and revoke a user's sessions (`listUserSessions`, `revokeUserSessions`). */
    sessionManager: SessionManager;
  }
}
