/**
 * The JSON API of passkeys, mounted on /api/passkeys: the two WebAuthn ceremonies (options, then verify) for adding a
 * passkey and for signing in with one, plus list and remove. The pages' script (public/passkeys.js) uses the same routes.
 */
import { Router, type Request, type Response } from "express";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { RouteContext } from "../context.js";
import { sendApiError, setRetryAfter } from "../http.js";
import { performPasskeyLogin, passkeyLoginOptions } from "../passkeys/login.js";
import { removePasskey } from "../passkeys/manage.js";
import { passkeyRegistrationOptions, registerPasskey } from "../passkeys/registration.js";
import { PASSKEYS_UNAVAILABLE, type RelyingParty } from "../passkeys/relying-party.js";
import { emptyBody, parseBody, passkeyId, passkeyLoginBody, passkeyRegistrationBody } from "../schemas.js";
import { currentUser } from "../security/require-user.js";
import type { PasskeyRecord } from "../users/passkeys.js";
import { apiGuards, invalidRequest } from "./api-guards.js";

/** A passkey as the API shows it to its owner (never the public key: nothing a client needs). */
export function publicPasskey(p: PasskeyRecord): Record<string, unknown> {
  return { id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, deviceType: p.deviceType, backedUp: p.backedUp, transports: p.transports };
}

/** Routes under /api/passkeys. */
export function passkeyApiRoutes(ctx: RouteContext): Router {
  const router = Router();
  const { signedIn, recentlyAuthenticated } = apiGuards(ctx);
  /** The relying party, or a 501 when PUBLIC_URL cannot have passkeys. */
  const relyingParty = (res: Response): RelyingParty | null => {
    if (!ctx.relyingParty) sendApiError(res, 501, "passkeys_unavailable", PASSKEYS_UNAVAILABLE);
    return ctx.relyingParty;
  };
  const emptyOrInvalid = (req: Request, res: Response): boolean => {
    if (parseBody(emptyBody, req.body) !== null) return false;
    invalidRequest(res);
    return true;
  };

  router.post("/register/options", signedIn, recentlyAuthenticated, async (req, res) => {
    const rp = relyingParty(res);
    if (!rp || emptyOrInvalid(req, res)) return;
    res.json(await passkeyRegistrationOptions(ctx, rp, req, currentUser(res)));
  });

  router.post("/register/verify", signedIn, recentlyAuthenticated, async (req, res) => {
    const rp = relyingParty(res);
    if (!rp) return;
    const input = parseBody(passkeyRegistrationBody, req.body);
    if (!input) return invalidRequest(res);
    const outcome = await registerPasskey(ctx, rp, req, { user: currentUser(res), name: input.name, response: input.response as unknown as RegistrationResponseJSON });
    if (outcome.ok) return void res.status(201).json({ passkey: publicPasskey(outcome.passkey) });
    if (outcome.code === "challenge_expired") return sendApiError(res, 400, "challenge_expired", "Ask for new options and try again");
    if (outcome.code === "passkey_exists") return sendApiError(res, 409, "passkey_exists", "This passkey is already registered");
    sendApiError(res, 400, "invalid_passkey", "The passkey could not be verified");
  });

  router.post("/login/options", async (req, res) => {
    const rp = relyingParty(res);
    if (!rp || emptyOrInvalid(req, res)) return;
    res.json(await passkeyLoginOptions(ctx, rp, req));
  });

  router.post("/login/verify", async (req, res) => {
    const rp = relyingParty(res);
    if (!rp) return;
    const input = parseBody(passkeyLoginBody, req.body);
    if (!input) return invalidRequest(res);
    const outcome = await performPasskeyLogin(ctx, rp, req, { response: input.response as unknown as AuthenticationResponseJSON, remember: input.remember });
    if (outcome.ok) return void res.json({ user: { id: outcome.user.id, email: outcome.user.email }, reauthenticated: outcome.reauthenticated === true });
    if (outcome.status === 429) {
      setRetryAfter(res, outcome.retryAfterSeconds);
      return sendApiError(res, 429, "too_many_attempts", "Too many attempts, try again later");
    }
    if (outcome.status === 400) return sendApiError(res, 400, "challenge_expired", "Ask for new options and try again");
    if (outcome.status === 403) return sendApiError(res, 403, "email_not_verified", "Confirm your email address first");
    sendApiError(res, 401, "invalid_credentials", "This passkey is not recognised");
  });

  router.get("/", signedIn, async (_req, res) => {
    res.json({ passkeys: (await ctx.passkeys.listUserPasskeys(currentUser(res).id)).map(publicPasskey) });
  });

  router.delete("/:id", signedIn, recentlyAuthenticated, async (req, res) => {
    const id = passkeyId.safeParse(req.params.id);
    if (!id.success) return invalidRequest(res);
    const outcome = await removePasskey(ctx, req, currentUser(res), id.data);
    if (outcome === "removed") return void res.json({ ok: true });
    if (outcome === "not_found") return sendApiError(res, 404, "passkey_not_found", "No such passkey");
    sendApiError(res, 409, "last_sign_in_method", "This is the account's last way to sign in; add another passkey or a password first");
  });

  return router;
}
