/**
 * Gate for signed-in routes. The session must name a user, and that user must still exist and be enabled: a session
 * of a disabled or deleted account is destroyed on sight (ASVS 5.0 V7.4.2), even on stores that cannot list sessions.
 * With EMAIL_VERIFICATION=required, so is a session of an account that has not confirmed its address (one made while
 * verification was off): no half-open state reaches a protected route.
 */
import type { Request, RequestHandler, Response } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { needsVerification } from "../recovery/email-verification.js";
import type { UserRecord } from "../users/types.js";

/** The signed-in user, as {@link requireUser} left it on `res.locals`. */
export function currentUser(res: Response): UserRecord {
  return res.locals.user as UserRecord;
}

/**
 * Build the gate. `onUnauthenticated` answers in the route family's style (plain text, JSON or a redirect).
 * @example router.get("/dashboard", requireUser(ctx, (req, res) => res.status(401).send("Not authenticated")), handler)
 */
export function requireUser(ctx: RouteContext, onUnauthenticated: (req: Request, res: Response) => void): RequestHandler {
  return async (req, res, next) => {
    const userId = req.session.userId;
    if (typeof userId !== "string") {
      onUnauthenticated(req, res);
      return;
    }
    const user = await ctx.users.findUserById(userId);
    if (!user || user.disabled || needsVerification(ctx, user)) {
      const reason = !user ? "deleted" : user.disabled ? "disabled" : "email_not_verified";
      logAuthEvent(ctx.logger, "session.user_unavailable", { userId, ip: req.ip, sessionKey: req.session.details?.key, reason });
      await req.session.destroy();
      onUnauthenticated(req, res);
      return;
    }
    res.locals.user = user;
    next();
  };
}
