/** The passkeys page. Adding runs in the page's script (a WebAuthn ceremony); removing is a plain form post. */
import { Router, type Request, type Response } from "express";
import type { RouteContext } from "../context.js";
import { hasPassword, removePasskey, removePassword } from "../passkeys/manage.js";
import { PASSKEYS_UNAVAILABLE } from "../passkeys/relying-party.js";
import { parseBody, removePasskeyBody } from "../schemas.js";
import { currentUser, requireUser } from "../security/require-user.js";
import { isRecentlyAuthenticated } from "../session-flows.js";
import { renderPasskeysPage } from "../views/passkey-pages.js";
import { ensureCsrfToken, noticeFrom, sendPage } from "./page-helpers.js";

/** `GET /passkeys`, `POST /passkeys/remove`, `POST /passkeys/remove-password`. */
export function passkeyPageRoutes(ctx: RouteContext): Router {
  const router = Router();
  const signedIn = requireUser(ctx, (_req: Request, res: Response) => res.redirect(303, "/login?notice=session-ended"));
  const page = async (req: Request, res: Response, extra: { notice?: string | null; error?: string } = {}): Promise<string> => {
    const user = currentUser(res);
    return renderPasskeysPage({
      email: user.email,
      csrfToken: ensureCsrfToken(req),
      now: ctx.now(),
      passkeys: await ctx.passkeys.listUserPasskeys(user.id),
      hasPassword: hasPassword(user),
      unavailable: ctx.relyingParty ? null : PASSKEYS_UNAVAILABLE,
      ...extra,
    });
  };

  router.get("/passkeys", signedIn, async (req, res) => {
    sendPage(res, 200, await page(req, res, { notice: noticeFrom(req) }));
  });

  router.post("/passkeys/remove", signedIn, async (req, res) => {
    const input = parseBody(removePasskeyBody, req.body);
    if (!input) return res.redirect(303, "/passkeys");
    if (!isRecentlyAuthenticated(ctx, req)) return res.redirect(303, "/reauth?returnTo=/passkeys");
    const outcome = await removePasskey(ctx, req, currentUser(res), input.id);
    if (outcome === "last_sign_in_method") {
      return sendPage(res, 409, await page(req, res, { error: "This passkey is your only way to sign in. Add another passkey or set a password first." }));
    }
    res.redirect(303, outcome === "removed" ? "/passkeys?notice=passkey-removed" : "/passkeys");
  });

  router.post("/passkeys/remove-password", signedIn, async (req, res) => {
    if (!isRecentlyAuthenticated(ctx, req)) return res.redirect(303, "/reauth?returnTo=/passkeys");
    const outcome = await removePassword(ctx, req, currentUser(res));
    if (outcome === "last_sign_in_method") return sendPage(res, 409, await page(req, res, { error: "Add a passkey first: your password is your only way to sign in." }));
    res.redirect(303, outcome === "removed" ? "/passkeys?notice=password-removed" : "/passkeys");
  });

  return router;
}
