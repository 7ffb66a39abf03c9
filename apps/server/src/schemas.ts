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
