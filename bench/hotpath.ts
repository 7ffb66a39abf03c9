/**
 * What one read-only request costs inside the session layer, without HTTP: µs per call of each step, from the public
 * exports of the built package, next to express-session's whole middleware driven with fake req/res objects.
 * A guide for the profile (`profile.ts`), not a target: the HTTP run is the figure that counts.
 */
import { createSigner, MemoryStore, SessionManager, storeKeyOf, generateTicket } from "cloakroom";
import session from "cloakroom/express";
import expressSession from "express-session";
import { EventEmitter } from "node:events";
import { markdownTable, writeSection } from "./lib/report.js";
import { SECRET } from "./lib/scenarios.js";

const ITERATIONS = Number(process.env.BENCH_HOTPATH_ITERATIONS ?? 200_000);

async function timeIt(label: string, body: () => unknown): Promise<[string, number]> {
  for (let i = 0; i < ITERATIONS / 10; i += 1) await body(); // warm-up (JIT)
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i += 1) await body();
  const micros = Number(process.hrtime.bigint() - started) / 1000 / ITERATIONS;
  console.log(`${micros.toFixed(2).padStart(7)} µs  ${label}`);
  return [label, micros];
}

/** A minimal stand-in for ServerResponse: enough for both middlewares' read-only path. */
class FakeResponse extends EventEmitter {
  headersSent = false;
  statusCode = 200;
  headers: Record<string, unknown> = {};
  getHeader(name: string): unknown {
    return this.headers[name.toLowerCase()];
  }
  setHeader(name: string, value: unknown): void {
    this.headers[name.toLowerCase()] = value;
  }
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  _implicitHeader(): void {
    this.writeHead();
  }
  end(): this {
    this.emit("finish");
    return this;
  }
}

function fakeExchange(cookie: string): { req: object; res: object } {
  const req = { url: "/dashboard", originalUrl: "/dashboard", method: "GET", headers: { cookie }, socket: { remoteAddress: "127.0.0.1" } };
  return { req, res: new FakeResponse() };
}

function runMiddleware(middleware: (req: never, res: never, next: (e?: unknown) => void) => void, cookie: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const { req, res } = fakeExchange(cookie);
    middleware(req as never, res as never, (error) => {
      if (error) return reject(error as Error);
      if (!(req as { session?: { userId?: string } }).session?.userId) return reject(new Error("no session"));
      (res as { end(): void; on(e: string, f: () => void): void }).on("finish", () => resolve());
      (res as { end(): void }).end();
    });
  });
}

async function main(): Promise<void> {
  const results: [string, number][] = [];
  const store = new MemoryStore({ sweepInterval: 0 });
  const manager = new SessionManager({ store, secret: SECRET });
  const signer = createSigner([SECRET]);
  const ticket = generateTicket();
  const first = await manager.load({ cookieHeader: undefined, secure: false });
  (first as { userId?: string }).userId = "user-1";
  const line = (await manager.commit(first))!;
  const cookieHeader = line.split(";")[0]!;
  const key = (manager as unknown as { describe(s: object): { key: string } }).describe(first).key;

  const signed = signer.sign(ticket);
  results.push(await timeIt("signer.unsign (HMAC-SHA256 of the ticket + compare)", () => signer.unsign(signed)));
  results.push(await timeIt("storeKeyOf (SHA-256 of the ticket)", () => storeKeyOf(ticket)));
  results.push(await timeIt("MemoryStore.get (JSON.parse copy)", () => store.get(key)));
  results.push(await timeIt("SessionManager.load (cookie → session)", () => manager.load({ cookieHeader, secure: false })));
  results.push(await timeIt("SessionManager.load + commit (read-only, inside touchAfter)", async () => manager.commit(await manager.load({ cookieHeader, secure: false }))));

  const ours = session({ secret: SECRET, store });
  results.push(await timeIt("cloakroom/express middleware, read-only request (fake req/res)", () => runMiddleware(ours as never, cookieHeader)));

  const theirsStore = new expressSession.MemoryStore();
  const theirs = expressSession({ secret: SECRET, resave: false, saveUninitialized: false, store: theirsStore });
  const theirCookie = await new Promise<string>((resolve) => {
    const { req, res } = fakeExchange("");
    theirs(req as never, res as never, () => {
      (req as { session: { userId: string } }).session.userId = "user-1";
      (res as { end(): void }).end();
      setImmediate(() => {
        const header = (res as { headers: Record<string, string[]> }).headers["set-cookie"];
        resolve(String(header).split(";")[0]!);
      });
    });
  });
  results.push(await timeIt("express-session middleware, read-only request (fake req/res)", () => runMiddleware(theirs as never, theirCookie)));

  const markdown = [
    `## Session layer cost per read-only request, no HTTP (${ITERATIONS.toLocaleString("en")} iterations, single process)`,
    "",
    markdownTable(["step", "µs per call"], results.map(([label, micros]) => [label, micros.toFixed(2)])),
    "",
    "The middleware rows wait for the fake response's `finish` (cloakroom ends the response after its commit, a few microtask turns later).",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("hotpath", markdown, Object.fromEntries(results));
  await store.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
