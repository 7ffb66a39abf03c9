/**
 * The seed app's routes with their original plain-text contract, for API clients (curl, scripts):
 * `POST /login` → "Logged in" / 401 "Invalid credentials"; `GET /dashboard` → "Protected route" / 401 "Not
 * authenticated"; `POST /logout` → "Logged out". Browsers (Accept: text/html) fall through to the HTML pages.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import type { RouteContext } from "../context.js";
import { setRetryAfter, wantsHtml } from "../http.js";
import { loginBody, parseBody } from "../schemas.js";
import { requireUser } from "../security/require-user.js";
import { performLogin, performLogout } from "../session-flows.js";

function browsersToPages(req: Request, _res: Response, next: NextFunction): void {
  next(wantsHtml(req) ? "route" : undefined);
}

/** Mount before the pages router: each handler passes browsers on with `next("route")`. */
export function seedRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.post("/login", browsersToPages, async (req, res) => {
    const input = parseBody(loginBody, req.body);
    if (!input) {
      res.status(400).type("text").send("Bad request: send email and password as strings");
      return;
    }
    const outcome = await performLogin(ctx, req, input);
    if (outcome.ok) {
      res.type("text").send("Logged in");
      return;
    }
    if (outcome.status === 429) {
      setRetryAfter(res, outcome.retryAfterSeconds);
      res.status(429).type("text").send("Too many attempts, try again later");
      return;
    }
    if (outcome.status === 403) {
      res.status(403).type("text").send("Confirm your email address first: we have sent a new link");
      return;
    }
    res.status(401).type("text").send("Invalid credentials");
  });

  const notAuthenticated = (_req: Request, res: Response): void => {
    res.status(401).type("text").send("Not authenticated");
  };
  router.get("/dashboard", browsersToPages, requireUser(ctx, notAuthenticated), (_req, res) => {
    res.type("text").send("Protected route");
  });

  router.post("/logout", browsersToPages, async (req, res) => {
    await performLogout(ctx, req, res);
    res.type("text").send("Logged out");
  });

  return router;
}
