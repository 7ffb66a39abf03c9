/** `Cache-Control: no-store` on every dynamic response (ASVS 5.0 V14.3.2; checklist: authenticated and cookie-setting responses). */
import type { RequestHandler } from "express";

/**
 * Mark every response as not storable. Applied app-wide rather than per route: the cost is nil for a server whose
 * pages are all personal, and no route can forget it. Static assets are mounted before this middleware.
 */
export function noStore(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Pragma", "no-cache");
    next();
  };
}
