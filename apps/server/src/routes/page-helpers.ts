/** Helpers for the HTML routes: the CSRF token of the session, notices, and sending pages. */
import { createCsrfToken } from "cloakroom/auth";
import type { Request, Response } from "express";

/**
 * The session's CSRF token, created on first use. For an anonymous visitor this stores a pre-session (the login
 * form needs a token too: CSRF CS "login CSRF"); it is replaced at login.
 */
export function ensureCsrfToken(req: Request): string {
  const existing = req.session.csrf;
  if (typeof existing === "string") return existing;
  const token = createCsrfToken();
  req.session.csrf = token;
  return token;
}

/** Send an HTML page with a status. */
export function sendPage(res: Response, status: number, page: string): void {
  res.status(status).type("html").send(page);
}

const NOTICES: Record<string, string> = {
  "logged-out": "You have been logged out.",
  "session-ended": "Your session has ended. Please log in again.",
  "password-changed": "Your password has been changed. Your other sessions were logged out.",
  "revoked": "The session has been revoked.",
  "revoked-others": "All your other sessions have been logged out.",
  "welcome": "Your account is ready.",
  "passkey-added": "Your passkey has been added. You can now sign in with it.",
  "passkey-removed": "The passkey has been removed. It can no longer sign in to your account.",
  "password-removed": "You now sign in with passkeys only. A password reset link sets a new password.",
  "password-reset": "Your password has been reset and every session logged out. Log in with the new password.",
};

/** A fixed notice chosen by the `notice` query parameter (never reflected text). */
export function noticeFrom(req: Request): string | null {
  const key = req.query.notice;
  return typeof key === "string" ? (NOTICES[key] ?? null) : null;
}

/** Where to go after re-authentication: only known pages, so the parameter cannot become an open redirect. */
export function safeReturnTo(value: unknown): string {
  return value === "/devices" || value === "/password" || value === "/passkeys" ? value : "/dashboard";
}
