/**
 * Request bodies, validated with zod: strict objects of strings only (SECURITY-CHECKLIST §5.8). Objects, arrays,
 * numbers, unknown keys (`__proto__`, `email[]`) and repeated fields all fail, so they become a clean 400.
 * Lengths are capped far above any real value, before any hashing happens.
 */
import { z } from "zod";

const email = z.string().max(1024);
// The password policy counts code points and caps at 128; this only bounds the work on absurd input.
const password = z.string().max(4096);
// Checkbox value from a form, or a JSON boolean.
const remember = z
  .union([z.boolean(), z.literal("on"), z.literal("true"), z.literal("false")])
  .optional()
  .transform((v) => v === true || v === "on" || v === "true");

/** `{ email, password, remember? }` for every login route. */
export const loginBody = z.strictObject({ email, password, remember });

/** `{ email, password }` for registration. */
export const registerBody = z.strictObject({ email, password });

/** `{ currentPassword, newPassword }` for a password change. */
export const passwordChangeBody = z.strictObject({ currentPassword: password, newPassword: password });

/** `{ password }` to confirm identity before session management; `returnTo` from the page form. */
export const reauthBody = z.strictObject({ password, returnTo: z.string().max(64).optional() });

/** `{ email }` to ask for a password reset link. */
export const forgotPasswordBody = z.strictObject({ email });

/** A mailed token as it arrives (its format is checked where it is used; this only bounds the input). */
const mailedToken = z.string().max(256);

/** `{ token, password }` to set a new password with a reset link. */
export const resetPasswordBody = z.strictObject({ token: mailedToken, password });

/** Base64url as WebAuthn's JSON carries binary fields; bounded well above any real authenticator's output. */
const b64url = z.string().max(8192).regex(/^[A-Za-z0-9_-]*$/);

/**
 * The credential a browser sends back (`PublicKeyCredential.toJSON()`, as @simplewebauthn/browser returns it). Loose
 * objects: browsers add fields over time (WebAuthn L3), and @simplewebauthn/server verifies the content; this only
 * rejects the wrong shapes and sizes before it runs.
 */
const credential = <T extends z.ZodRawShape>(response: T) =>
  z.looseObject({
    id: b64url.min(1).max(1024),
    rawId: b64url.min(1).max(1024),
    type: z.literal("public-key"),
    response: z.looseObject(response),
    clientExtensionResults: z.looseObject({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  });

/** `{ name, response }` to finish adding a passkey. */
export const passkeyRegistrationBody = z.strictObject({
  name: z.string().trim().min(1).max(64),
  response: credential({ clientDataJSON: b64url, attestationObject: b64url, transports: z.array(z.string().max(32)).max(10).optional() }),
});

/** `{ response, remember? }` to sign in (or re-authenticate) with a passkey. */
export const passkeyLoginBody = z.strictObject({
  response: credential({ clientDataJSON: b64url, authenticatorData: b64url, signature: b64url, userHandle: b64url.optional() }),
  remember,
});

/** A credential ID in a path or form (base64url). */
export const passkeyId = b64url.min(1).max(1024);

/** `{ id }` from the passkeys page's remove button. */
export const removePasskeyBody = z.strictObject({ id: passkeyId });

/** A store key (base64url SHA-256: 43 characters; bounded generously). */
export const sessionKey = z.string().min(1).max(256);

/** `{ key }` from the devices page. */
export const revokeBody = z.strictObject({ key: sessionKey });

/** An empty JSON object (logout, logout-others): anything else is a malformed request. */
export const emptyBody = z.union([z.strictObject({}), z.undefined()]);

/**
 * Parse a body; `null` on any mismatch.
 * @example const input = parseBody(loginBody, req.body); if (!input) return badRequest();
 */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> | null {
  const result = schema.safeParse(body);
  return result.success ? result.data : null;
}
