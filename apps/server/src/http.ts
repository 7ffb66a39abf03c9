/** Small request/response helpers shared by the routes. */
import type { Request, Response } from "express";

/** Stable error codes of the JSON API (the `error` field). Never renamed: clients branch on them. */
export type ApiErrorCode =
  | "invalid_request"
  | "invalid_json"
  | "payload_too_large"
  | "unsupported_media_type"
  | "method_override_not_supported"
  | "csrf_failed"
  | "invalid_credentials"
  | "too_many_attempts"
  | "not_authenticated"
  | "reauthentication_required"
  | "invalid_email"
  | "email_taken"
  | "weak_password"
  | "wrong_password"
  | "email_not_verified"
  | "invalid_or_expired_token"
  | "passkeys_unavailable"
  | "challenge_expired"
  | "invalid_passkey"
  | "passkey_exists"
  | "passkey_not_found"
  | "last_sign_in_method"
  | "no_password"
  | "session_not_found"
  | "sessions_not_listable"
  | "not_found"
  | "service_unavailable"
  | "internal_error";

/**
 * Whether the client is a browser asking for a page: its Accept header names text/html explicitly.
 * curl and API clients send `*\/*` or application/json and keep the seed's plain-text contract.
 */
export function wantsHtml(req: Request): boolean {
  return /\btext\/html\b/i.test(req.get("accept") ?? "");
}

/** Whether the body was sent as JSON (`application/json`, with or without parameters). */
export function isJsonBody(req: Request): boolean {
  return req.is("application/json") === "application/json";
}

/**
 * Answer an API error: `{ error, message }` with the status.
 * @example sendApiError(res, 401, "invalid_credentials", "Invalid credentials")
 */
export function sendApiError(res: Response, status: number, error: ApiErrorCode, message: string): void {
  res.status(status).json({ error, message });
}

/** The 429 answer's Retry-After header (whole seconds, at least 1). */
export function setRetryAfter(res: Response, seconds: number): void {
  res.setHeader("Retry-After", String(Math.max(1, Math.ceil(seconds))));
}

/** Headers that make browsers drop what they kept for this origin (sent on logout). */
export function setClearSiteData(res: Response): void {
  res.setHeader("Clear-Site-Data", '"cache", "cookies", "storage"');
}
