/**
 * The load generator: autocannon (programmatic), in its own process so it never competes with the server for its
 * event loop. Long-lived: the runner sends jobs over IPC and gets one JSON result per job.
 *
 * Workloads:
 * - "dashboard": GET /dashboard with one logged-in session on every connection;
 * - "mix": each request picks one of the given sessions at random; `writeRatio` of them are POST /cart (modifies the
 *   session), the rest GET /dashboard;
 * - "login": POST /login without a cookie (a login storm: every request creates a session).
 */
import autocannon from "autocannon";

export interface LoadJob {
  port: number;
  workload: "dashboard" | "mix" | "login";
  cookies: string[];
  duration: number;
  /** Send exactly this many requests instead of running for `duration` seconds. */
  amount?: number;
  connections: number;
  writeRatio?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  latencyP50: number;
  latencyP99: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

function requestsFor(job: LoadJob): autocannon.Request[] {
  if (job.workload === "dashboard") return [{ method: "GET", path: "/dashboard", headers: { cookie: job.cookies[0]! } }];
  if (job.workload === "login") {
    let n = 0;
    return [
      {
        setupRequest: (req) => ({
          ...req,
          method: "POST",
          path: "/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId: `storm-${n++}` }),
        }),
      },
    ];
  }
  const writeRatio = job.writeRatio ?? 0.1;
  const cookies = job.cookies;
  return [
    {
      setupRequest: (req) => {
        const cookie = cookies[Math.floor(Math.random() * cookies.length)]!;
        return Math.random() < writeRatio
          ? { ...req, method: "POST", path: "/cart", headers: { cookie }, body: "" }
          : { ...req, method: "GET", path: "/dashboard", headers: { cookie } };
      },
    },
  ];
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const statusCodes: Record<string, number> = {};
  const instance = autocannon({
    url: `http://127.0.0.1:${job.port}`,
    connections: job.connections,
    ...(job.amount ? { amount: job.amount, timeout: 120 } : { duration: job.duration }),
    requests: requestsFor(job),
  });
  instance.on("response", (_client: unknown, statusCode: number) => {
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  return {
    requestsPerSecond: result.requests.total / (result.duration || job.duration),
    total: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
  };
}

if (process.send) {
  process.on("message", (message: { id: number; job: LoadJob }) => {
    runLoad(message.job).then(
      (result) => process.send!({ id: message.id, result }),
      (error: unknown) => process.send!({ id: message.id, error: String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: true });
}
