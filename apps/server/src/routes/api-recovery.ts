/** The JSON API of password recovery: ask for a reset link, use it. */
import { Router } from "express";
import type { RouteContext } from "../context.js";
import { sendApiError } from "../http.js";
import { logAuthEvent } from "../logger.js";
import { RESET_REQUESTED_MESSAGE, requestPasswordReset, resetPassword } from "../recovery/password-reset.js";
import { forgotPasswordBody, parseBody, resetPasswordBody } from "../schemas.js";

/** `POST /api/password/forgot` and `POST /api/password/reset`, mounted under /api. */
export function recoveryApiRoutes(ctx: RouteContext): Router {
  const router = Router();

  // Always 202 with the same body: known, unknown, disabled and throttled addresses are indistinguishable.
  router.post("/password/forgot", (req, res) => {
    const input = parseBody(forgotPasswordBody, req.body);
    if (!input) return sendApiError(res, 400, "invalid_request", "Send { email } as a string");
    requestPasswordReset(ctx, { email: input.email, ip: req.ip ?? "unknown" });
    res.status(202).json({ ok: true, message: RESET_REQUESTED_MESSAGE });
  });

  router.post("/password/reset", async (req, res) => {
    const input = parseBody(resetPasswordBody, req.body);
    if (!input) return sendApiError(res, 400, "invalid_request", "Send { token, password } as strings");
    const outcome = await resetPassword(ctx, { ...input, ip: req.ip ?? "unknown" });
    if (outcome.ok) return void res.json({ ok: true });
    logAuthEvent(ctx.logger, "password.reset_failed", { ip: req.ip, reason: outcome.code });
    if (outcome.code === "invalid_or_expired_token") {
      return sendApiError(res, 400, "invalid_or_expired_token", "This reset link is invalid, used or expired; ask for a new one");
    }
    res.status(400).json({ error: outcome.code, message: outcome.message, reason: outcome.reason });
  });

  return router;
}
