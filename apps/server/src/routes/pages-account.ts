/** HTML pages for a signed-in user: dashboard, change password, devices (list, revoke one, revoke the others). */
import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { hasPassword } from "../passkeys/manage.js";
import { parseBody, passwordChangeBody, revokeBody } from "../schemas.js";
import { currentUser, requireUser } from "../security/require-user.js";
import {
  isRecentlyAuthenticated,
  listUserSessionsWithMethod,
  performPasswordChange,
  revokeOneSession,
  revokeOtherSessions,
  summarizeCurrentSession,
} from "../session-flows.js";
import { renderDashboardPage, renderDevicesPage, renderPasswordPage } from "../views/account-pages.js";
import { ensureCsrfToken, noticeFrom, sendPage } from "./page-helpers.js";

/** Routes for the signed-in pages. */
export function accountPageRoutes(ctx: RouteContext): Router {
  const router = Router();
  const signedIn = requireUser(ctx, (_req: Request, res: Response) => res.redirect(303, "/login?notice=session-ended"));
  const page = (req: Request, res: Response) => ({ email: currentUser(res).email, csrfToken: ensureCsrfToken(req), now: ctx.now() });
  const passwordPage = (req: Request, res: Response) => ({ ...page(req, res), hasPassword: hasPassword(currentUser(res)) });

  router.get("/dashboard", signedIn, (req, res) => {
    const session = summarizeCurrentSession(req);
    sendPage(res, 200, renderDashboardPage({ ...page(req, res), session, createdAt: currentUser(res).createdAt, notice: noticeFrom(req) }));
  });

  router.get("/password", signedIn, (req, res) => {
    sendPage(res, 200, renderPasswordPage({ ...passwordPage(req, res), notice: noticeFrom(req) }));
  });

  router.post("/password", signedIn, async (req, res) => {
    const user = currentUser(res);
    const input = parseBody(passwordChangeBody, req.body);
    if (!input) {
      sendPage(res, 400, renderPasswordPage({ ...passwordPage(req, res), error: "Fill in both passwords." }));
      return;
    }
    const result = await performPasswordChange(ctx, req, { user, ...input });
    if (!result.ok) {
      logAuthEvent(ctx.logger, "password.change_failed", { userId: user.id, ip: req.ip, reason: result.reason ?? result.code });
      sendPage(res, result.code === "wrong_password" ? 403 : 400, renderPasswordPage({ ...passwordPage(req, res), error: result.message }));
      return;
    }
    res.redirect(303, "/dashboard?notice=password-changed");
  });

  router.get("/devices", signedIn, async (req, res) => {
    const current = summarizeCurrentSession(req);
    const sessions = ctx.store.capabilities.listByUser ? await listUserSessionsWithMethod(ctx, currentUser(res).id) : null;
    sendPage(res, 200, renderDevicesPage({ ...page(req, res), sessions, currentKey: current?.key ?? null, notice: noticeFrom(req) }));
  });

  router.post("/devices/revoke", signedIn, async (req, res) => {
    const input = parseBody(revokeBody, req.body);
    if (!input) return res.redirect(303, "/devices");
    if (!isRecentlyAuthenticated(ctx, req)) return res.redirect(303, "/reauth?returnTo=/devices");
    const outcome = await revokeOneSession(ctx, req, res, input.key);
    if (outcome === "current") return res.redirect(303, "/login?notice=logged-out");
    res.redirect(303, outcome ? "/devices?notice=revoked" : "/devices");
  });

  router.post("/devices/revoke-others", signedIn, async (req, res) => {
    if (!isRecentlyAuthenticated(ctx, req)) return res.redirect(303, "/reauth?returnTo=/devices");
    await revokeOtherSessions(ctx, req, currentUser(res).id, "revoke_others");
    res.redirect(303, "/devices?notice=revoked-others");
  });

  return router;
}
