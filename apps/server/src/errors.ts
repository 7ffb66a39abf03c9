/**
 * The last handlers: 404, and errors. Client mistakes (bad JSON, oversized bodies, bad percent-encoding) keep their
 * 4xx with a short generic message; a session store outage is 503; anything else is logged and answered with a
 * generic 500. Never a stack trace (checklist: "generic errors; fail closed").
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { type ApiErrorCode, sendApiError, wantsHtml } from "./http.js";
import { renderErrorPage } from "./views/error-page.js";

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
}

interface ErrorAnswer {
  status: number;
  code: ApiErrorCode;
  message: string;
}

/** Map an error to the answer the client gets. */
export function classifyError(error: unknown): ErrorAnswer {
  const e = (error ?? {}) as HttpErrorLike;
  const status = e.status ?? e.statusCode ?? 500;
  if (e.code === "SESSION_STORE_UNAVAILABLE" || status === 503) {
    return { status: 503, code: "service_unavailable", message: "Service temporarily unavailable, try again shortly" };
  }
  if (status === 413 || e.type === "entity.too.large" || e.type === "parameters.too.many") {
    return { status: 413, code: "payload_too_large", message: "Request body too large" };
  }
  if (e.type === "entity.parse.failed") return { status: 400, code: "invalid_json", message: "Malformed JSON body" };
  if (status === 415 || e.type === "encoding.unsupported" || e.type === "charset.unsupported") {
    return { status: 415, code: "unsupported_media_type", message: "Unsupported body encoding" };
  }
  if (status >= 400 && status < 500) return { status, code: "invalid_request", message: "Bad request" };
  return { status: 500, code: "internal_error", message: "Something went wrong" };
}

function answer(req: Request, res: Response, a: ErrorAnswer): void {
  if (wantsHtml(req)) {
    const title = a.status === 503 ? "Temporarily unavailable" : a.status >= 500 ? "Something went wrong" : a.status === 404 ? "Page not found" : "Bad request";
    res.status(a.status).type("html").send(renderErrorPage({ title, message: a.message }));
  } else if (req.path.startsWith("/api/") || req.is("application/json") || req.accepts(["text", "json"]) === "json") {
    sendApiError(res, a.status, a.code, a.message);
  } else {
    res.status(a.status).type("text").send(a.message);
  }
}

/** 404 for anything no route matched. */
export function notFoundHandler(): RequestHandler {
  return (req, res) => answer(req, res, { status: 404, code: "not_found", message: "Not found" });
}

/** The error handler. Logs 5xx with the error (pino serializes it; no request headers are logged). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const a = classifyError(error);
    if (a.status >= 500) logger.error({ err: error, method: req.method, path: req.path }, a.status === 503 ? "service unavailable" : "unhandled error");
    res.setHeader("Cache-Control", "no-store");
    answer(req, res, a);
  };
}
