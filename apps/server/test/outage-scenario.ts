/**
 * The store-outage scenario, the same for every shared store: real server processes under a light load, the store's
 * server process killed, held down, started again. Records every answer by phase so the tests can state what held.
 */
import { expect } from "vitest";
import { startInstance, type InstanceProcess } from "../src/cluster/instances.js";
import { call, login, meStatus, waitForStatus, type Answer } from "./multi-helpers.js";
import { GOOD_PASSWORD } from "./helpers.js";
import type { OwnedServer } from "./outage-servers.js";

/** before the kill, while down, while the server starts again, once it answers again. */
type Phase = "before" | "outage" | "restart" | "after";

/** One answer of the load, tagged. */
interface Sample {
  phase: Phase;
  route: string;
  status: number;
  /** When the request was sent and answered, ms since the store was killed (negative: before). */
  sentAt: number;
  answeredAt: number;
}

/** What the scenario saw, for the assertions and the printed summary. */
export interface OutageReport {
  samples: Sample[];
  /** ms from the store's restart until every instance served an old session again. */
  recoveryMs: number;
  /** Sessions handed out (200 + cookie) by logins of the load, any phase. */
  loadSessions: string[];
}

/** Options of {@link runOutage}. */
export interface OutageOptions {
  label: string;
  server: OwnedServer;
  /** Instances on that server: two with SESSION_CACHE=on, then one with it off. */
  instances: InstanceProcess[];
  /** SESSION_CACHE_TTL of the cached instances, in ms. */
  cacheTtlMs: number;
  email: string;
  /** Sessions committed before the outage, to find valid after it. */
  sessions: string[];
  /** How long the store stays down. @default 1500 */
  outageMs?: number;
}

/** Run load before, during and after an outage of `server`, checking the answers during it on the way. */
export async function runOutage(options: OutageOptions): Promise<OutageReport> {
  const urls = options.instances.map((i) => i.url);
  const samples: Sample[] = [];
  const loadSessions: string[] = [];
  let phase: Phase = "before";
  let running = true;
  let killedAt = Number.POSITIVE_INFINITY;

  // Four loops: signed-in reads, anonymous pages (they create a pre-session: a store write), probes, and now and
  // then a login (argon2id is heavy on two cores, so rarely).
  const loop = async (worker: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const url = urls[(worker + i) % urls.length] as string;
      const cookie = options.sessions[i % options.sessions.length] as string;
      const picks: Array<[string, () => Promise<Answer>]> = [
        ["session", () => call(url, "GET", "/api/me", { cookie })],
        ["page", () => call(url, "GET", "/login", { headers: { Accept: "text/html" } })],
        ["healthz", () => call(url, "GET", "/healthz")],
        ["asset", () => call(url, "GET", "/assets/app.css")],
      ];
      const [route, send] = worker === 0 && i % 6 === 5 ? ["login", () => call(url, "POST", "/api/login", { body: { email: options.email, password: GOOD_PASSWORD } })] as const : (picks[(worker + i) % picks.length] as [string, () => Promise<Answer>]);
      const at = phase;
      const sentAt = performance.now() - killedAt;
      const answer = await send();
      samples.push({ phase: at, route, status: answer.status, sentAt, answeredAt: performance.now() - killedAt });
      if (route === "login" && answer.status === 200 && answer.cookie) loadSessions.push(answer.cookie);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const loops = [0, 1, 2, 3].map((w) => loop(w));
  try {
    await new Promise((r) => setTimeout(r, 400));
    killedAt = performance.now();
    await options.server.kill();
    phase = "outage";

    // Let the instances notice (a closed connection is noticed at once), then look at each kind of route.
    await new Promise((r) => setTimeout(r, 200));
    const [a] = urls as [string];
    const me = await call(a, "GET", "/api/me", { cookie: options.sessions[0] });
    expect(me.status).toBe(503);
    expect(me.json).toEqual({ error: "service_unavailable", message: "Service temporarily unavailable, try again shortly" });
    const seed = await call(a, "GET", "/dashboard", { cookie: options.sessions[0], headers: { Accept: "text/plain" } });
    expect([seed.status, seed.text]).toEqual([503, "Service temporarily unavailable, try again shortly"]);
    const page = await call(a, "GET", "/dashboard", { cookie: options.sessions[0], headers: { Accept: "text/html" } });
    expect(page.status).toBe(503);
    expect(page.text).toContain("Temporarily unavailable");
    expect((await call(a, "GET", "/healthz")).status).toBe(200);
    expect((await call(a, "GET", "/assets/app.css")).status).toBe(200);
    expect((await call(a, "GET", "/readyz")).status).toBe(503);
    expect((await call(a, "GET", "/metrics")).status).toBe(200); // the active-sessions gauge is skipped, not fatal
    const loginDuringOutage = await call(a, "POST", "/api/login", { body: { email: options.email, password: GOOD_PASSWORD } });
    expect(loginDuringOutage.status).toBe(503);
    expect(loginDuringOutage.cookie).toBeNull();

    await new Promise((r) => setTimeout(r, options.outageMs ?? 1500));
    const restartedAt = performance.now();
    phase = "restart";
    await options.server.restart();
    phase = "after";
    // Recovery without restarting the app: each instance's clients reconnect by themselves.
    await Promise.all(urls.map((url) => waitForStatus(url, options.sessions[0] as string, 200, { limitMs: 20_000 })));
    const recoveryMs = performance.now() - restartedAt;
    await new Promise((r) => setTimeout(r, 300)); // a little load after recovery, too
    return { samples, recoveryMs, loadSessions };
  } finally {
    running = false;
    await Promise.all(loops);
  }
}

/** "before: session 200×12 …" — the answers per phase and route, for the log. */
export function summarize(samples: Sample[]): string {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(`${s.phase} ${s.route} ${s.status}`, (counts.get(`${s.phase} ${s.route} ${s.status}`) ?? 0) + 1);
  const served = samples.filter((s) => s.phase === "outage" && s.status === 200 && s.route !== "healthz" && s.route !== "asset");
  const detail = served.map((s) => `${s.route} sent ${s.sentAt.toFixed(0)} ms, answered ${s.answeredAt.toFixed(0)} ms after the kill`);
  return `${[...counts].map(([k, n]) => `${k}×${n}`).join(", ")}${detail.length ? `; 200 during the outage: ${detail.join("; ")}` : ""}`;
}

/** The assertions every outage must satisfy, on the report and the instances. */
export async function expectSurvived(report: OutageReport, options: OutageOptions): Promise<void> {
  const { samples } = report;
  // Never a dropped connection, never a 500; probes and static assets always answered.
  expect(samples.filter((s) => s.status === 0 || s.status >= 500 && s.status !== 503)).toEqual([]);
  expect(samples.filter((s) => (s.route === "healthz" || s.route === "asset") && s.status !== 200)).toEqual([]);
  // Fail closed: a valid session is 200 or 503, never "anonymous" (401) because the store did not answer.
  expect(samples.filter((s) => s.route === "session" && s.status !== 200 && s.status !== 503)).toEqual([]);
  expect(samples.filter((s) => s.route === "login" && s.status !== 200 && s.status !== 503)).toEqual([]);
  expect(samples.some((s) => s.phase === "outage" && s.status === 503)).toBe(true);
  expect(samples.some((s) => s.phase === "after" && s.route === "session" && s.status === 200)).toBe(true);

  // Every session committed before the outage, or handed out by any login of the load, is valid on every instance.
  for (const instance of options.instances) {
    for (const cookie of [...options.sessions, ...report.loadSessions]) expect(await meStatus(instance.url, cookie)).toBe(200);
    expect(instance.alive()).toBe(true);
    expect(instance.stderr()).not.toMatch(/unhandled|uncaught|ERR_UNHANDLED_REJECTION|TypeError/i);
  }

  // The cache is live again. A logout on the uncached instance publishes nothing, so while the first instance's channel
  // is subscribed again and caching, it keeps serving the session until SESSION_CACHE_TTL; until then (bypassed), it
  // refuses at once. Wait for the former (the channel reconnects with a backoff), then check that a published logout
  // is refused at once.
  const [first, second, uncached] = options.instances.map((i) => i.url) as [string, string, string];
  const deadline = performance.now() + 15_000;
  let viaTtl = await logoutSeenOn(first, uncached, options.email, options.cacheTtlMs + 200);
  while (viaTtl.polls === 1) {
    if (performance.now() > deadline) throw new Error(`${first} did not cache again within 15 s of the recovery`);
    await new Promise((r) => setTimeout(r, 250));
    viaTtl = await logoutSeenOn(first, uncached, options.email, options.cacheTtlMs + 200);
  }
  const viaChannel = await logoutSeenOn(first, second, options.email, 100);
  console.log(
    `[${options.label} outage] after recovery, the cached instance refuses a logout made elsewhere after ` +
      `${viaChannel.ms.toFixed(1)} ms when published, ${viaTtl.ms.toFixed(0)} ms when not (the ${options.cacheTtlMs} ms TTL bound)`,
  );
}

/** Log in on `reader` and read twice (cached), log out on `writer`; how long until `reader` refuses, within `limitMs`. */
async function logoutSeenOn(reader: string, writer: string, email: string, limitMs: number): Promise<{ ms: number; polls: number }> {
  const cookie = await login(reader, email);
  expect(await meStatus(reader, cookie)).toBe(200);
  expect(await meStatus(reader, cookie)).toBe(200);
  expect((await call(writer, "POST", "/api/logout", { cookie, body: {} })).status).toBe(200);
  return waitForStatus(reader, cookie, 401, { limitMs });
}

/** Start one instance per environment, in parallel; when one fails, stop the others and throw. */
export async function startInstances(envs: Array<Record<string, string>>): Promise<InstanceProcess[]> {
  const started = await Promise.allSettled(envs.map((env) => startInstance({ env })));
  const instances = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    throw failed.reason;
  }
  return instances;
}
