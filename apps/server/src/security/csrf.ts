/**
 * CSRF defence for every state-changing request (OWASP CSRF cheat sheet; ASVS 5.0 V3.5):
 * 1. Fetch metadata / Origin / Referer: when a browser says where the request came from, it must be an allowed
 *    origin (cloakroom/auth `checkOrigin`).
 * 2. A request with none of those headers is a non-browser client. It is accepted only when a cross-site page could
 *    not have produced it without a CORS preflight (which this server never grants): a JSON body, or a method other
 *    than POST. A "simple" POST (form, text/plain, no body) without them is refused, as the cheat sheet recommends.
 * 3. Form posts (the HTML pages) must also carry the session-bound token in `_csrf`; it is removed from the body
 *    before the routes validate it.
 */
import type { Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { checkOrigin, verifyCsrfToken } from "cloakroom/auth";
import { isJsonBody, sendApiError, wantsHtml } from "../http.js";
import { logAuthEvent } from "../logger.js";
import { renderErrorPage } from "../views/error-page.js";

/** Options for {@link csrfProtection}. */
export interface CsrfOptions {
  /** Allowed origins; `null` = the request's own origin (scheme from `req.protocol`, trust proxy honoured). */
  allowedOrigins: string[] | null;
  logger: Logger;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The origins a request may come from under these options: the configured list, or the request's own origin
 * serialized as browsers send it (no default port). `null` when the Host header cannot form an origin.
 */
export function resolveAllowedOrigins(req: Request, allowedOrigins: string[] | null): string[] | null {
  if (allowedOrigins) return allowedOrigins;
  try {
    const origin = new URL(`${req.protocol}://${req.get("host") ?? ""}`).origin;
    return origin === "null" ? null : [origin];
  } catch {
    return null;
  }
}

function hasBrowserSignal(req: Request): boolean {
  return req.get("origin") !== undefined || req.get("sec-fetch-site") !== undefined || req.get("referer") !== undefined;
}

/** Whether a cross-site page could send this request without a CORS preflight ("simple request"). */
function isSimpleRequest(req: Request): boolean {
  return req.method === "POST" && !isJsonBody(req);
}

/** Read and remove the `_csrf` field of a parsed form body. */
function takeFormToken(req: Request): string | null {
  const body = req.body as Record<string, unknown> | undefined;
  if (body === null || typeof body !== "object" || !Object.hasOwn(body, "_csrf")) return null;
  const token = body._csrf;
  delete body._csrf;
  return typeof token === "string" ? token : null;
}

/**
 * Build the CSRF middleware. Mount it after the body parsers and the session middleware.
 * @example app.use(csrfProtection({ allowedOrigins: null, logger }))
 */
export function csrfProtection(options: CsrfOptions): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const token = takeFormToken(req);
    let reason: string | null = null;
    if (hasBrowserSignal(req)) {
      const allowedOrigins = resolveAllowedOrigins(req, options.allowedOrigins);
      const verdict = allowedOrigins ? checkOrigin(req, { allowedOrigins }) : { ok: false as const, reason: "unusable Host header" };
      if (!verdict.ok) reason = `origin:${verdict.reason}`;
    } else if (isSimpleRequest(req)) {
      reason = "no_origin_on_simple_request";
    }
    if (reason === null && isSimpleRequest(req)) {
      const expected = req.session?.csrf;
      if (typeof expected !== "string" || token === null || !verifyCsrfToken(expected, token)) reason = "token";
    }
    if (reason === null) {
      next();
      return;
    }
    logAuthEvent(options.logger, "csrf.rejected", { ip: req.ip, reason, userId: req.session?.userId });
    if (wantsHtml(req)) {
      res.status(403).type("html").send(
        renderErrorPage({ title: "Request blocked", message: "This form has expired or did not come from this site. Go back, reload the page and try again." }),
      );
      return;
    }
    sendApiError(res, 403, "csrf_failed", "Cross-site request refused");
  };
}
