/**
 * Prometheus metrics (prom-client) on a registry of the app's own, so several apps in one process (tests) never clash.
 */
import client, { type Counter, type Histogram, Registry } from "prom-client";

/** The counters and histograms the routes update. */
export interface ServerMetrics {
  registry: Registry;
  logins: Counter<"result">;
  throttled: Counter<"scope">;
  revocations: Counter<"reason">;
  registrations: Counter<"result">;
  storeLatency: Histogram<"operation" | "outcome">;
}

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** Counts live sessions at scrape time; leave it out when the store cannot count (no gauge is exported then). */
  countSessions?: (() => Promise<number>) | null;
  /** Also export Node.js process metrics. @default true */
  processMetrics?: boolean;
}

/**
 * Create the registry and every metric.
 * @example const metrics = createMetrics({ countSessions: () => store.count() });
 */
export function createMetrics(options: MetricsOptions): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) client.collectDefaultMetrics({ register: registry, prefix: "cloakroom_" });
  const logins = new client.Counter({ name: "cloakroom_logins_total", help: "Login attempts by result", labelNames: ["result"], registers: [registry] });
  const throttled = new client.Counter({ name: "cloakroom_login_throttled_total", help: "Login attempts refused by the brute-force limits", labelNames: ["scope"], registers: [registry] });
  const revocations = new client.Counter({ name: "cloakroom_session_revocations_total", help: "Sessions ended by logout or revocation", labelNames: ["reason"], registers: [registry] });
  const registrations = new client.Counter({ name: "cloakroom_registrations_total", help: "Registration attempts by result", labelNames: ["result"], registers: [registry] });
  const storeLatency = new client.Histogram({
    name: "cloakroom_session_store_duration_seconds",
    help: "Session store operation latency",
    labelNames: ["operation", "outcome"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const countSessions = options.countSessions;
  if (countSessions) {
    new client.Gauge({
      name: "cloakroom_active_sessions",
      help: "Live sessions in the store",
      registers: [registry],
      async collect() {
        try {
          this.set(await countSessions());
        } catch {
          // An unreachable store shows up in /readyz and in the latency histogram; the scrape itself still works.
        }
      },
    });
  }
  return { registry, logins, throttled, revocations, registrations, storeLatency };
}
