/**
 * Detect sprays of invalid session tickets (OWASP Session Management CS, "Session ID Guessing and Brute Force
 * Detection"): a client presenting many forged, unknown or expired tickets is guessing. Past the limit its address
 * gets 429 with Retry-After for the rest of the window, and one warning is logged per block.
 * Counting is per process (memory): detection, not a shared quota — a guesser hitting N instances is still
 * stopped on each of them after the same number of misses.
 */
import type { SessionEvent } from "cloakroom";
import { createRateLimit, ipRateLimitKey } from "cloakroom/auth";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { setRetryAfter, wantsHtml } from "../http.js";
import { logAuthEvent } from "../logger.js";
import type { ServerMetrics } from "../metrics.js";

/** Misses allowed per address and window: far above a browser with a stale cookie, far below a guesser. */
export const TICKET_MISSES_PER_WINDOW = 100;
export const TICKET_SPRAY_WINDOW_SECONDS = 60;

/** The events that mean "a ticket was presented and it is not a live session". */
const MISSES = new Set<SessionEvent["type"]>(["invalid_cookie", "unknown_session", "ambiguous_cookie"]);

/** Options of {@link createTicketSprayGuard}. */
export interface TicketSprayGuardOptions {
  logger: Logger;
  metrics: ServerMetrics;
  /** @default TICKET_MISSES_PER_WINDOW */
  limit?: number;
  /** @default TICKET_SPRAY_WINDOW_SECONDS */
  windowSeconds?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The guard: feed it the session middleware's events, mount its middleware before the session middleware.
 * @example
 * const spray = createTicketSprayGuard({ logger, metrics });
 * app.use(spray.middleware);
 * app.use(session({ secret, onEvent: spray.onSessionEvent }));
 */
export function createTicketSprayGuard(options: TicketSprayGuardOptions): {
  onSessionEvent: (event: SessionEvent) => void;
  middleware: (req: Request, res: Response, next: NextFunction) => void;
} {
  const now = options.now ?? Date.now;
  const limit = createRateLimit({
    points: options.limit ?? TICKET_MISSES_PER_WINDOW,
    duration: options.windowSeconds ?? TICKET_SPRAY_WINDOW_SECONDS,
    backend: { type: "memory" },
    keyPrefix: "ticket-spray",
  });
  /** Address key → when its block ends (ms). Checked synchronously on every request. */
  const blockedUntil = new Map<string, number>();

  function onSessionEvent(event: SessionEvent): void {
    if (!MISSES.has(event.type) || !event.ip) return;
    const key = ipRateLimitKey(event.ip);
    limit.consume(key).then(
      (result) => {
        if (result.allowed || (blockedUntil.get(key) ?? 0) > now()) return;
        blockedUntil.set(key, now() + result.retryAfterSeconds * 1000);
        options.metrics.throttled.inc({ scope: "session_ticket" });
        logAuthEvent(options.logger, "session.ticket_spray", { ip: event.ip, reason: event.type });
      },
      () => {
        // Counting is best effort: a failure here must never affect the request.
      },
    );
  }

  function middleware(req: Request, res: Response, next: NextFunction): void {
    const key = ipRateLimitKey(req.ip ?? req.socket.remoteAddress ?? "unknown");
    const until = blockedUntil.get(key);
    if (until === undefined) return next();
    const left = until - now();
    if (left <= 0) {
      blockedUntil.delete(key);
      return next();
    }
    setRetryAfter(res, left / 1000);
    if (wantsHtml(req)) res.status(429).type("text/plain").send("Too many requests");
    else res.status(429).json({ error: "too_many_attempts", message: "Too many requests" });
  }

  return { onSessionEvent, middleware };
}
