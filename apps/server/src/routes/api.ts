/**
 * The JSON API. Requests with a body must be `Content-Type: application/json` (415 otherwise): a cross-site page
 * cannot send that without a CORS preflight, which is what lets non-browser clients skip the form token (see
 * security/csrf.ts). Every error is `{ error, message }` with a stable `error` code.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import type { RouteContext } from "../context.js";
import { isJsonBody, sendApiError, setRetryAfter } from "../http.js";
import { logAuthEvent } from "../logger.js";
import { apiGuards, invalidRequest } from "./api-guards.js";
import { passkeyApiRoutes } from "./api-passkeys.js";
import { recoveryApiRoutes } from "./api-recovery.js";
import { emptyBody, loginBody, parseBody, passwordChangeBody, reauthBody, registerBody, sessionKey } from "../schemas.js";
import { removePassword } from "../passkeys/manage.js";
import { CHECK_INBOX_MESSAGE } from "../recovery/email-verification.js";
import { currentUser } from "../security/require-user.js";
import {
  confirmPassword,
  performPasswordChange,
  performRegistration,
  listUserSessionsWithMethod,
  performLogin,
  performLogout,
  revokeOneSession,
  revokeOtherSessions,
  summarizeCurrentSession,
} from "../session-flows.js";

/**
 * 415 for an API POST whose body is not JSON. Mounted on /api before the CSRF check, so API clients get this clear
 * answer rather than a token error, and no form post ever reaches an API route.
 */
export function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method === "POST" && !isJsonBody(req)) {
    sendApiError(res, 415, "unsupported_media_type", "Send the body as application/json");
    return;
  }
  next();
}

/** Routes under /api. */
export function apiRoutes(ctx: RouteContext): Router {
  const router = Router();
  const { signedIn, recentlyAuthenticated } = apiGuards(ctx);

  router.post("/register", async (req, res) => {
    const input = parseBody(registerBody, req.body);
    if (!input) return invalidRequest(res);
    const outcome = await performRegistration(ctx, req, input);
    if (outcome.kind === "check_inbox") return void res.status(202).json({ ok: true, message: CHECK_INBOX_MESSAGE });
    if (outcome.kind === "signed_in") return void res.status(201).json({ user: { id: outcome.user.id, email: outcome.user.email } });
    const { code, message, reason } = outcome.refusal;
    res.status(code === "email_taken" ? 409 : 400).json({ error: code, message, reason });
  });

  router.post("/login", async (req, res) => {
    const input = parseBody(loginBody, req.body);
    if (!input) return invalidRequest(res);
    const outcome = await performLogin(ctx, req, input);
    if (outcome.ok) {
      res.json({ user: { id: outcome.user.id, email: outcome.user.email } });
      return;
    }
    if (outcome.status === 429) {
      setRetryAfter(res, outcome.retryAfterSeconds);
      sendApiError(res, 429, "too_many_attempts", "Too many attempts, try again later");
      return;
    }
    if (outcome.status === 403) return sendApiError(res, 403, "email_not_verified", "Confirm your email address first: we have sent a new link");
    sendApiError(res, 401, "invalid_credentials", "Invalid credentials");
  });

  router.post("/logout", async (req, res) => {
    if (parseBody(emptyBody, req.body) === null) return invalidRequest(res);
    await performLogout(ctx, req, res);
    res.json({ ok: true });
  });

  router.post("/reauth", signedIn, async (req, res) => {
    const input = parseBody(reauthBody, req.body);
    if (!input) return invalidRequest(res);
    const outcome = await confirmPassword(ctx, req, input.password);
    if (outcome === "ok") return void res.json({ ok: true });
    if (outcome === "throttled") return sendApiError(res, 429, "too_many_attempts", "Too many attempts, try again later");
    sendApiError(res, 401, "wrong_password", "The password is not correct");
  });

  router.get("/me", signedIn, (req, res) => {
    const user = currentUser(res);
    res.json({ user: { id: user.id, email: user.email, createdAt: user.createdAt }, session: publicSession(summarizeCurrentSession(req)) });
  });

  router.get("/sessions", signedIn, async (req, res) => {
    if (!ctx.store.capabilities.listByUser) {
      return sendApiError(res, 501, "sessions_not_listable", "This session store cannot list sessions; POST /api/logout-others still works");
    }
    const current = req.session.details?.key;
    const sessions = await listUserSessionsWithMethod(ctx, currentUser(res).id);
    res.json({ sessions: sessions.map((s) => ({ id: s.key, current: s.key === current, signedInWith: s.method, createdAt: s.createdAt, lastSeenAt: s.touchedAt, expiresAt: s.expiresAt, absoluteExpiresAt: s.absoluteExpiresAt, persistent: s.persistent, ip: s.ip ?? null, userAgent: s.userAgent ?? null })) });
  });

  router.delete("/sessions/:id", signedIn, recentlyAuthenticated, async (req, res) => {
    const key = sessionKey.safeParse(req.params.id);
    if (!key.success) return invalidRequest(res);
    const outcome = await revokeOneSession(ctx, req, res, key.data);
    if (outcome === false) return sendApiError(res, 404, "session_not_found", "No such session");
    res.json({ ok: true, current: outcome === "current" });
  });

  router.post("/logout-others", signedIn, recentlyAuthenticated, async (req, res) => {
    if (parseBody(emptyBody, req.body) === null) return invalidRequest(res);
    const revoked = await revokeOtherSessions(ctx, req, currentUser(res).id, "revoke_others");
    res.json({ ok: true, revoked });
  });

  router.post("/password", signedIn, async (req, res) => {
    const user = currentUser(res);
    const input = parseBody(passwordChangeBody, req.body);
    if (!input) return invalidRequest(res);
    const result = await performPasswordChange(ctx, req, { user, ...input });
    if (!result.ok) {
      logAuthEvent(ctx.logger, "password.change_failed", { userId: user.id, ip: req.ip, reason: result.reason ?? result.code });
      res.status(result.code === "wrong_password" ? 403 : 400).json({ error: result.code, message: result.message, reason: result.reason });
      return;
    }
    res.json({ ok: true });
  });

  router.delete("/password", signedIn, recentlyAuthenticated, async (req, res) => {
    const outcome = await removePassword(ctx, req, currentUser(res));
    if (outcome === "removed") return void res.json({ ok: true });
    if (outcome === "no_password") return sendApiError(res, 409, "no_password", "This account has no password");
    sendApiError(res, 409, "last_sign_in_method", "Add a passkey first: the password is this account's only way to sign in");
  });

  router.use(recoveryApiRoutes(ctx));
  router.use("/passkeys", passkeyApiRoutes(ctx));
  router.use((_req, res) => sendApiError(res, 404, "not_found", "No such API route"));
  return router;
}

/** The current session for `GET /api/me`: its public id (the store key) and times, never the ticket. */
function publicSession(s: ReturnType<typeof summarizeCurrentSession>): Record<string, unknown> | null {
  if (!s) return null;
  return { id: s.key, createdAt: s.createdAt, lastSeenAt: s.touchedAt, expiresAt: s.expiresAt, absoluteExpiresAt: s.absoluteExpiresAt, persistent: s.persistent };
}
