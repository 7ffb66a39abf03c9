/** HTML pages of password recovery and email verification. */
import { Router, type RequestHandler } from "express";
import type { RouteContext } from "../context.js";
import { logAuthEvent } from "../logger.js";
import { confirmEmail } from "../recovery/email-verification.js";
import { RESET_REQUESTED_MESSAGE, findResetAccount, requestPasswordReset, resetPassword } from "../recovery/password-reset.js";
import { forgotPasswordBody, parseBody, resetPasswordBody } from "../schemas.js";
import { renderForgotPasswordPage, renderMessagePage, renderResetPasswordPage } from "../views/recovery-pages.js";
import { ensureCsrfToken, sendPage } from "./page-helpers.js";

const FORGOT_LINK = { href: "/forgot-password", text: "Ask for a new link" };
const LOGIN_LINK = { href: "/login", text: "Log in" };

function badLinkPage(): string {
  return renderMessagePage({ title: "This link does not work", message: "The link is invalid, was already used, or has expired.", links: [FORGOT_LINK, LOGIN_LINK] });
}

/** `/forgot-password`, `/reset-password`, `/verify-email`. */
export function recoveryPageRoutes(ctx: RouteContext): Router {
  const router = Router();
  const queryToken = (value: unknown): string => (typeof value === "string" ? value : "");
  // Pages opened from a mailed link have its token in their URL: a Referer sent from them carries the origin only,
  // never the path and query, not even to this origin's stylesheet (OWASP Forgot Password CS). Not "no-referrer":
  // under it Chromium sends "Origin: null" with the page's form post, which the CSRF check rightly refuses.
  const originOnlyReferrer: RequestHandler = (_req, res, next) => {
    res.setHeader("Referrer-Policy", "strict-origin");
    next();
  };

  router.get("/forgot-password", (req, res) => {
    sendPage(res, 200, renderForgotPasswordPage({ csrfToken: ensureCsrfToken(req) }));
  });

  router.post("/forgot-password", (req, res) => {
    const input = parseBody(forgotPasswordBody, req.body);
    if (!input) return sendPage(res, 400, renderForgotPasswordPage({ csrfToken: ensureCsrfToken(req), error: "Enter your email address." }));
    requestPasswordReset(ctx, { email: input.email, ip: req.ip ?? "unknown" });
    sendPage(res, 200, renderMessagePage({ title: "Check your inbox", message: RESET_REQUESTED_MESSAGE, links: [LOGIN_LINK] }));
  });

  // Looks the link up without using it: a mail scanner fetching it leaves it working.
  router.get("/reset-password", originOnlyReferrer, async (req, res) => {
    const token = queryToken(req.query.token);
    const user = await findResetAccount(ctx, token);
    if (!user) return sendPage(res, 400, badLinkPage());
    sendPage(res, 200, renderResetPasswordPage({ csrfToken: ensureCsrfToken(req), token, accountEmail: user.email }));
  });

  router.post("/reset-password", async (req, res) => {
    const input = parseBody(resetPasswordBody, req.body);
    if (!input) return sendPage(res, 400, badLinkPage());
    const outcome = await resetPassword(ctx, { ...input, ip: req.ip ?? "unknown" });
    if (outcome.ok) return res.redirect(303, "/login?notice=password-reset");
    logAuthEvent(ctx.logger, "password.reset_failed", { ip: req.ip, reason: outcome.code });
    if (outcome.code === "invalid_or_expired_token") return sendPage(res, 400, badLinkPage());
    const user = await findResetAccount(ctx, input.token);
    if (!user) return sendPage(res, 400, badLinkPage());
    sendPage(res, 400, renderResetPasswordPage({ csrfToken: ensureCsrfToken(req), token: input.token, accountEmail: user.email, error: outcome.message }));
  });

  // The one GET that changes state: following the mailed link is what confirms the address. It is safe to repeat
  // (the account stays verified), carries a token no third party has, and signs no one in.
  router.get("/verify-email", originOnlyReferrer, async (req, res) => {
    const user = await confirmEmail(ctx, queryToken(req.query.token), req.ip ?? "unknown");
    if (!user) return sendPage(res, 400, renderMessagePage({ title: "This link does not work", message: "The link is invalid, was already used, or has expired. Log in to get a new one.", links: [LOGIN_LINK] }));
    sendPage(res, 200, renderMessagePage({ title: "Address confirmed", message: `${user.email} is confirmed. You can log in now.`, links: [LOGIN_LINK] }));
  });

  return router;
}
