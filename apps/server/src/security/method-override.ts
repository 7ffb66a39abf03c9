/**
 * Refuse method-override attempts outright (checklist §5.8): this server never honours them, and a clear 400 beats
 * a request silently routed as POST that a client believes was a DELETE.
 */
import type { RequestHandler } from "express";
import { sendApiError } from "../http.js";

const OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"];

/** 400 `method_override_not_supported` for an override header or a `_method` field/query parameter. */
export function rejectMethodOverride(): RequestHandler {
  return (req, res, next) => {
    const header = OVERRIDE_HEADERS.some((h) => req.headers[h] !== undefined);
    const body = req.body as Record<string, unknown> | undefined;
    const field = (body !== null && typeof body === "object" && Object.hasOwn(body, "_method")) || Object.hasOwn(req.query, "_method");
    if (header || field) {
      sendApiError(res, 400, "method_override_not_supported", "Method override is not supported");
      return;
    }
    next();
  };
}
