/** The gates the JSON routes share: signed in, recently re-authenticated, and the 400 for a body of the wrong shape. */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { RouteContext } from "../context.js";
import { sendApiError } from "../http.js";
import { requireUser } from "../security/require-user.js";
import { isRecentlyAuthenticated } from "../session-flows.js";

/** 400 `invalid_request`: the body does not have the expected fields. */
export function invalidRequest(res: Response): void {
  sendApiError(res, 400, "invalid_request", "The request body does not have the expected fields");
}

/** `signedIn` (401 `not_authenticated`) and `recentlyAuthenticated` (403 `reauthentication_required`). */
export function apiGuards(ctx: RouteContext): { signedIn: RequestHandler; recentlyAuthenticated: RequestHandler } {
  return {
    signedIn: requireUser(ctx, (_req, res) => sendApiError(res, 401, "not_authenticated", "Not authenticated")),
    recentlyAuthenticated(req: Request, res: Response, next: NextFunction): void {
      if (isRecentlyAuthenticated(ctx, req)) return next();
      sendApiError(res, 403, "reauthentication_required", "Re-authenticate first: POST /api/reauth with the password, or a passkey through /api/passkeys/login/*");
    },
  };
}
