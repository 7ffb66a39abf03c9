/**
 * The server under test, one scenario per process: `node --import tsx server.ts <scenario>`.
 * Prints `ready <port>` when listening, or `skip <reason>` and exits when the setup cannot run here.
 *
 * The app is the seed's: POST /login sets req.session.userId, GET /dashboard → requireAuth → "Protected route",
 * plus POST /cart, which modifies the session (the 10 % of the mixed workload). The password check is left out:
 * bcrypt would dominate the login cost and measure bcrypt, not sessions.
 *
 * The Fastify and Hono setups run the same routes on their framework (lib/framework-servers.ts).
 *
 * Env knobs (used by the extra scripts): BENCH_COUNT=1 counts store calls, BENCH_LOOP=1 records event-loop delay,
 * BENCH_PREFILL=N stores N filler sessions through the store API before listening.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { writeSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { AddressInfo } from "node:net";
import { parse as parseCookie } from "cookie";
import { SignJWT, jwtVerify } from "jose";
import { KEEP_ALIVE_MS, PREFIX, SECRET, SkipScenario, buildSetup, firstLine, type SessionSetup } from "./lib/scenarios.js";
import { countStoreCalls, type CallCounts } from "./lib/instrument.js";
import { prefillStore } from "./lib/prefill.js";
import { FASTIFY_SETUPS, HONO_SETUPS, portOf, serveFramework } from "./lib/framework-servers.js";

const id = process.argv[2] ?? "bare";

type Sess = Record<string, unknown> | undefined;

const LOOP_RESOLUTION_MS = 2;

/** CPU time this process used so far (user + system, µs): divided by requests, a cost that other processes on the
 * machine barely disturb, unlike req/s. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
/** The histogram records the whole interval between two timer runs: the delay is what exceeds the resolution. */
function delayMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS);
}

async function main(): Promise<void> {
  collectOnSignal();
  if (FASTIFY_SETUPS.includes(id) || HONO_SETUPS.includes(id)) {
    const running = await serveFramework(id).catch((error: unknown) => {
      console.log(`skip ${firstLine(error)}`);
      process.exit(0);
    });
    console.log(`ready ${portOf(running.server)}`);
    stopOnSignal(running.close);
    return;
  }
  let setup: SessionSetup;
  try {
    setup = await buildSetup(id);
  } catch (error) {
    console.log(`skip ${error instanceof SkipScenario ? error.message : firstLine(error)}`);
    process.exit(0);
  }
  const counts: CallCounts | null = process.env.BENCH_COUNT === "1" && setup.store ? countStoreCalls(setup.store) : null;
  const prefill = Number(process.env.BENCH_PREFILL ?? 0);
  if (prefill > 0 && setup.store) await prefillStore(setup.store, prefill, { redisPrefix: id === "cr-redis" ? `${PREFIX}${id}:` : undefined });
  const loop = process.env.BENCH_LOOP === "1" ? monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS }) : null;
  loop?.enable();

  const app = express();
  app.disable("x-powered-by");
  // Bench controls first, outside the session middleware.
  app.get("/__bench/stats", (_req, res) => {
    res.json({
      counts,
      loop: loop ? { p50: delayMs(loop.percentile(50)), p99: delayMs(loop.percentile(99)), max: delayMs(loop.max), mean: delayMs(loop.mean) } : null,
      rss: process.memoryUsage().rss,
      cpuMicros: cpuMicros(),
    });
  });
  app.post("/__bench/reset", (_req, res) => {
    if (counts) for (const name of Object.keys(counts)) counts[name] = 0;
    loop?.reset();
    res.send("ok");
  });

  app.use(express.json());
  if (setup.kind === "session") app.use(setup.middleware!);
  const auth = setup.kind === "jwt" ? await jwtAuth() : sessionAuth();

  app.post("/login", auth.login);
  app.get("/dashboard", auth.requireAuth, (_req, res) => {
    res.send("Protected route");
  });
  app.post("/cart", auth.requireAuth, auth.modify);

  const server = app.listen(0, "127.0.0.1", () => {
    console.log(`ready ${(server.address() as AddressInfo).port}`);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  stopOnSignal(async () => {
    server.close();
    server.closeAllConnections();
    await setup.close();
  });
}

/**
 * Under `node --expose-gc` (only bench:steady starts a server so): SIGUSR2 runs one full collection and writes
 * "collected" to stdout. bench:steady does it in every row after the warm-up, so every counted window follows a
 * compacted heap rather than wherever the warm-up left the old generation (bench/README.md). The answer is written
 * with writeSync, not console.log: a write through process.stdout's stream (a pipe) in the middle of the request path's
 * steady state deoptimized the socket's stream code (onwrite, afterWriteTick) and sent dozens of functions back
 * through the optimizing compiler.
 */
function collectOnSignal(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (typeof collect !== "function") return;
  process.on("SIGUSR2", () => {
    collect();
    writeSync(1, "collected\n");
  });
}

/** Exit on SIGTERM, SIGINT or the parent's disconnect, after `close` (the setup's clean-up). */
function stopOnSignal(close: () => Promise<void>): void {
  const stop = (): void => {
    close().catch(() => {}).finally(() => process.exit(0));
    // Removing a million bench keys from Redis takes a while; give up after a minute rather than hang.
    setTimeout(() => process.exit(0), 60_000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", stop);
}

interface Auth {
  login(req: Request, res: Response): void | Promise<void>;
  requireAuth(req: Request, res: Response, next: NextFunction): void | Promise<void>;
  modify(req: Request, res: Response): void | Promise<void>;
}

/** The seed's code, for express-session and cloakroom/express alike (and a no-op for bare Express). */
function sessionAuth(): Auth {
  return {
    login(req, res) {
      const session = (req as { session?: Sess }).session;
      if (session) session.userId = String(req.body?.userId ?? "u1");
      res.send("Logged in");
    },
    requireAuth(req, res, next) {
      if (id !== "bare" && !(req as { session?: Sess }).session?.userId) {
        res.status(401).send("Not authenticated");
        return;
      }
      next();
    },
    modify(req, res) {
      const session = (req as { session?: Sess }).session;
      if (session) session.cart = ((session.cart as number | undefined) ?? 0) + 1;
      res.send("ok");
    },
  };
}

/** A stateless JWT cookie: HS256 with a key imported once (not per request), verified with jose. */
async function jwtAuth(): Promise<Auth> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const cookieOptions = { httpOnly: true, sameSite: "lax" as const, path: "/" };
  const sign = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("30m").sign(key);
  return {
    async login(req, res) {
      res.cookie("token", await sign({ userId: String(req.body?.userId ?? "u1") }), cookieOptions);
      res.send("Logged in");
    },
    async requireAuth(req, res, next) {
      const token = req.headers.cookie ? parseCookie(req.headers.cookie).token : undefined;
      try {
        if (!token) throw new Error("no token");
        const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
        (req as { claims?: Record<string, unknown> }).claims = payload;
      } catch {
        res.status(401).send("Not authenticated");
        return;
      }
      next();
    },
    async modify(req, res) {
      const claims = (req as { claims?: Record<string, unknown> }).claims!;
      const { iat: _iat, exp: _exp, ...rest } = claims;
      res.cookie("token", await sign({ ...rest, cart: ((claims.cart as number | undefined) ?? 0) + 1 }), cookieOptions);
      res.send("ok");
    },
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
