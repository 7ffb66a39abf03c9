/**
 * Whether a request came over HTTPS, as express-session's issecure() decides it: a TLS socket; else, with `proxy:
 * true`, X-Forwarded-Proto; with `proxy: false`, no; and by default Express's `req.secure`.
 *
 * `req.secure` is Express's getter chain (`secure` → `protocol` → `this.app.get("trust proxy fn")`, the trust function
 * called with the peer's address), and each of its loads on a request whose prototype Express swapped misses V8's
 * inline caches: measured at steady state, ~7k instructions per request, the largest single cost of the middleware.
 * When the request's prototypes are Express's own (no app overrides `secure` or `protocol`), the same answer costs a
 * call of the app's trust function: a peer the app does not trust as a proxy means `protocol` is the socket's, which
 * is not TLS here. Any other case (a trusted proxy, an overriding getter, no Express) reads `req.secure` itself.
 * Whether an app's request prototype overrides them is checked once per prototype, on its first request: a getter
 * defined on `app.request` after the app started serving is not seen.
 */
import type { IncomingMessage } from "node:http";
import { IncomingMessage as NodeIncomingMessage } from "node:http";
import { forwardedHttps } from "./options.js";

type SecureRequest = IncomingMessage & { secure?: boolean };
interface ExpressApp {
  get(setting: string): unknown;
}

/** Direct prototypes (an app's `req` prototype) whose `secure` and `protocol` are Express's own, checked once each. */
const plainPrototypes = new WeakSet<object>();
const otherPrototypes = new WeakSet<object>();
let lastPlain: object | null = null;

/**
 * express-session's issecure(req, proxy).
 * @param socket `req.socket` (the caller loaded it once)
 */
export function isSecure(req: SecureRequest, socket: IncomingMessage["socket"] | undefined, proxy: boolean | undefined): boolean {
  if ((socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  if (proxy === false) return false;
  if (proxy === true) return forwardedHttps(req.headers["x-forwarded-proto"]);
  const app = plainExpressApp(req);
  if (app !== null && socket !== undefined) {
    const trust = app.get("trust proxy fn");
    // Express's `protocol`: an untrusted peer means the socket decides, and the socket is not TLS (checked above).
    if (typeof trust === "function" && !trust(socket.remoteAddress, 0)) return false;
  }
  return req.secure === true;
}

/** The app of a request whose `secure`/`protocol` are Express's getters, else `null`. */
function plainExpressApp(req: object): ExpressApp | null {
  const direct = Object.getPrototypeOf(req) as { app?: ExpressApp } | null;
  if (direct === null) return null;
  if (direct !== lastPlain) {
    if (otherPrototypes.has(direct)) return null;
    if (!plainPrototypes.has(direct)) {
      if (!isExpressRequestPrototype(direct)) {
        otherPrototypes.add(direct);
        return null;
      }
      plainPrototypes.add(direct);
    }
    lastPlain = direct;
  }
  const app = direct.app;
  return app !== undefined && app !== null && typeof app.get === "function" ? app : null;
}

/**
 * Whether `direct` is an Express app's request prototype (own `app`) directly on Express's shared request object,
 * which defines `secure` and `protocol` as getters and inherits from `http.IncomingMessage.prototype`. An app that
 * defines its own `secure` or `protocol` on `app.request` fails this check and keeps Express's full getter.
 */
function isExpressRequestPrototype(direct: object): boolean {
  if (!Object.prototype.hasOwnProperty.call(direct, "app")) return false;
  if (Object.prototype.hasOwnProperty.call(direct, "secure") || Object.prototype.hasOwnProperty.call(direct, "protocol")) return false;
  const shared = Object.getPrototypeOf(direct) as object | null;
  if (shared === null || Object.getPrototypeOf(shared) !== NodeIncomingMessage.prototype) return false;
  const secure = Object.getOwnPropertyDescriptor(shared, "secure");
  const protocol = Object.getOwnPropertyDescriptor(shared, "protocol");
  return typeof secure?.get === "function" && typeof protocol?.get === "function";
}
