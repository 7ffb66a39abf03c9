/** Operational routes: liveness, readiness, Prometheus metrics, and the static assets. */
import { Router } from "express";
import { ASSETS } from "../assets.js";
import type { RouteContext } from "../context.js";

/** `/healthz`, `/readyz`, `/metrics`, `/assets/*`. Mounted before the session middleware: they never touch a session. */
export function operationalRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    try {
      await ctx.checkReady();
      res.json({ status: "ready", store: ctx.config.session.store });
    } catch (error) {
      ctx.logger.warn({ err: error }, "readiness check failed");
      res.status(503).json({ status: "unavailable" });
    }
  });

  router.get("/metrics", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  router.get("/assets/:name", (req, res, next) => {
    const asset = ASSETS.get(req.params.name);
    if (!asset) return next();
    res.setHeader("Cache-Control", "public, max-age=3600");
    res.type(asset.type).send(asset.body);
  });

  return router;
}
