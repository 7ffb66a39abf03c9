/** HTML pages for signing in and out: login, register, logout, re-authentication. */
import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../context.js";
import { setRetryAfter } from "../http.js";
import { loginBody, parseBody, reauthBody, registerBody } from "../schemas.js";
import { currentUser, requireUser } from "../security/require-user.js";
import { CHECK_INBOX_MESSAGE } from "../recovery/email-verification.js";
import { confirmPassword, performLogin, performLogout, performRegistration } from "../session-flows.js";
import { renderMessagePage } from "../views/recovery-pages.js";
import { renderLoginPage, renderReauthPage, renderRegisterPage } from "../views/auth-pages.js";
import { ensureCsrfToken, noticeFrom, safeReturnTo, sendPage } from "./page-helpers.js";

/** Routes for the login, register, logout and re-authentication pages. */
export function authPageRoutes(ctx: RouteContext): Router {
  const router = Router();
  const passkeys = ctx.relyingParty !== null;
  const toLogin = (_req: Request, res: Response): void => res.redirect(303, "/login?notice=session-ended");

  router.get("/", (req, res) => res.redirect(303, typeof req.session.userId === "string" ? "/dashboard" : "/login"));

  router.get("/login", (req, res) => {
    if (typeof req.session.userId === "string") return res.redirect(303, "/dashboard");
    sendPage(res, 200, renderLoginPage({ csrfToken: ensureCsrfToken(req), passkeys, notice: noticeFrom(req) }));
  });

  router.post("/login", async (req, res) => {
    const input = parseBody(loginBody, req.body);
    const email = typeof (req.body as { email?: unknown })?.email === "string" ? (req.body as { email: string }).email : "";
    if (!input) {
      sendPage(res, 400, renderLoginPage({ csrfToken: ensureCsrfToken(req), passkeys, error: "Enter your email and password.", email }));
      return;
    }
    const outcome = await performLogin(ctx, req, input);
    if (outcome.ok) return res.redirect(303, "/dashboard");
    if (outcome.status === 429) {
      setRetryAfter(res, outcome.retryAfterSeconds);
      const minutes = Math.max(1, Math.ceil(outcome.retryAfterSeconds / 60));
      const error = `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
      sendPage(res, 429, renderLoginPage({ csrfToken: ensureCsrfToken(req), passkeys, error, email }));
      return;
    }
    if (outcome.status === 403) {
      const error = "Confirm your email address first: we have sent you a new link.";
      return sendPage(res, 403, renderLoginPage({ csrfToken: ensureCsrfToken(req), passkeys, error, email }));
    }
    sendPage(res, 401, renderLoginPage({ csrfToken: ensureCsrfToken(req), passkeys, error: "Invalid email or password.", email }));
  });

  router.get("/register", (req, res) => {
    if (typeof req.session.userId === "string") return res.redirect(303, "/dashboard");
    sendPage(res, 200, renderRegisterPage({ csrfToken: ensureCsrfToken(req) }));
  });

  router.post("/register", async (req, res) => {
    const input = parseBody(registerBody, req.body);
    if (!input) {
      sendPage(res, 400, renderRegisterPage({ csrfToken: ensureCsrfToken(req), error: "Enter an email and a password." }));
      return;
    }
    const outcome = await performRegistration(ctx, req, input);
    if (outcome.kind === "check_inbox") {
      return sendPage(res, 200, renderMessagePage({ title: "Check your inbox", message: CHECK_INBOX_MESSAGE, links: [{ href: "/login", text: "Log in" }] }));
    }
    if (outcome.kind === "signed_in") return res.redirect(303, "/dashboard?notice=welcome");
    const status = outcome.refusal.code === "email_taken" ? 409 : 400;
    sendPage(res, status, renderRegisterPage({ csrfToken: ensureCsrfToken(req), error: outcome.refusal.message, email: input.email }));
  });

  router.post("/logout", async (req, res) => {
    await performLogout(ctx, req, res);
    res.redirect(303, "/login?notice=logged-out");
  });

  router.get("/reauth", requireUser(ctx, toLogin), (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo);
    sendPage(res, 200, renderReauthPage({ csrfToken: ensureCsrfToken(req), passkeys, userEmail: currentUser(res).email, returnTo }));
  });

  router.post("/reauth", requireUser(ctx, toLogin), async (req, res) => {
    const user = currentUser(res);
    const input = parseBody(reauthBody, req.body);
    const returnTo = safeReturnTo(input?.returnTo);
    const outcome = input ? await confirmPassword(ctx, req, input.password) : "invalid";
    if (outcome === "ok") return res.redirect(303, returnTo);
    const error = outcome === "throttled" ? "Too many attempts. Try again later." : "That password is not correct.";
    sendPage(res, outcome === "throttled" ? 429 : 401, renderReauthPage({ csrfToken: ensureCsrfToken(req), passkeys, userEmail: user.email, returnTo, error }));
  });

  return router;
}
