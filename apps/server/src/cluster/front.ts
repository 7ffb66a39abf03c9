/**
 * The cluster's front: a small reverse proxy on node:http that spreads requests over the instances, round-robin
 * (no stickiness: any instance can serve any request when they share a store), or pinned to one instance per browser
 * with `sticky` (the memory-store alternative).
 *
 * Why no library: http-proxy is not installed here (and its last release dates from 2020), and what a local demo
 * needs — forward one buffered request, set X-Forwarded-*, try the next instance when one refuses the connection,
 * optionally pin by a cookie — is this file. In production the front is nginx, HAProxy or a cloud load balancer
 * (docs/operations.md); nothing in the instances depends on this one.
 */
import http from "node:http";
import type { Socket } from "node:net";

/** Options of {@link createFront}. */
export interface FrontOptions {
  /** Base URLs of the instances (`http://127.0.0.1:3001`); the first is instance 1. */
  upstreams: string[];
  /**
   * Pin each browser to one instance with an affinity cookie the front sets on the first response (HAProxy's
   * `cookie … insert`, nginx's `sticky cookie`). Needed when sessions live in one instance's memory.
   * @default false
   */
  sticky?: boolean;
  /** @default "cloakroom_instance" */
  affinityCookie?: string;
  /**
   * Largest request body the front buffers (it buffers so it can retry on another instance).
   * @default 1 MiB (the instances refuse more than 16 kB anyway)
   */
  maxBodyBytes?: number;
}

/** Request headers a proxy must not forward (RFC 9110 §7.6.1), plus the ones this front sets itself. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
  "content-length",
]);

/** Response headers not copied back (hop-by-hop); Node sets its own framing. */
const HOP_BY_HOP_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding", "trailer", "upgrade"]);

/** Connection errors after which the request certainly never reached the instance: safe to retry even a POST. */
const NEVER_SENT = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH"]);

const DEFAULT_MAX_BODY = 1024 * 1024;

/** The instance header on every response: which instance answered (1-based), for people trying the cluster. */
export const INSTANCE_HEADER = "x-cloakroom-instance";

/**
 * Build the front (not listening yet).
 * @throws {TypeError} when `upstreams` is empty or holds something that is not an http:// URL
 * @example
 * const front = createFront({ upstreams: ["http://127.0.0.1:3001", "http://127.0.0.1:3002"] });
 * front.listen(3000, "127.0.0.1");
 */
export function createFront(options: FrontOptions): http.Server {
  const upstreams = options.upstreams.map((u) => new URL(u));
  if (upstreams.length === 0 || upstreams.some((u) => u.protocol !== "http:")) {
    throw new TypeError("createFront: the upstreams option must be a non-empty list of http:// URLs");
  }
  const cookieName = options.affinityCookie ?? "cloakroom_instance";
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  // Keep-alive to the instances: a new TCP connection per request would dominate the latency being measured.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;

  const pinnedIndex = (req: http.IncomingMessage): number | null => {
    // One cookie of our own, digits only: a regex is enough (the session cookie is never parsed here).
    const match = new RegExp(`(?:^|;\\s*)${cookieName}=(\\d{1,3})(?:;|$)`).exec(req.headers.cookie ?? "");
    const index = match ? Number(match[1]) - 1 : -1;
    return index >= 0 && index < upstreams.length ? index : null;
  };

  const server = http.createServer((req, res) => {
    void readBody(req, maxBody).then(
      (body) => {
        const pinned = options.sticky ? pinnedIndex(req) : null;
        const first = pinned ?? next++ % upstreams.length;
        // The order to try: the chosen instance, then the others (only when one refuses the connection).
        const order = upstreams.map((_, i) => (first + i) % upstreams.length);
        forward(req, res, body, order, pinned);
      },
      (error: Error & { status?: number }) => {
        if (!res.headersSent) res.writeHead(error.status ?? 400, { "content-type": "text/plain" });
        res.end(error.status === 413 ? "Request body too large\n" : "Bad request\n");
      },
    );
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, order: number[], pinned: number | null): void {
    const index = order[0] as number;
    const target = upstreams[index] as URL;
    const upstream = http.request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req, body.length),
      agent,
    });
    upstream.on("response", (answer) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP_RESPONSE.has(name)) headers[name] = value;
      }
      headers[INSTANCE_HEADER] = String(index + 1);
      if (options.sticky && pinned !== index) {
        // First visit, or the pinned instance refused: pin to the one that answered. Not a secret, only a route.
        const pin = `${cookieName}=${index + 1}; Path=/; HttpOnly; SameSite=Lax`;
        headers["set-cookie"] = [...([] as string[]).concat(headers["set-cookie"] ?? []), pin];
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (NEVER_SENT.has(error.code ?? "") && order.length > 1 && !res.headersSent) {
        forward(req, res, body, order.slice(1), pinned);
        return;
      }
      // The instance died with the request in flight: whether it was applied is unknown, so never replay it.
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain", "cache-control": "no-store" });
        res.end("Bad gateway: the instance did not answer\n");
      } else {
        res.destroy();
      }
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy(); // the client went away: stop the instance's work too
    });
    upstream.end(body);
  }

  server.on("close", () => agent.destroy());
  return server;
}

/** The client's headers minus hop-by-hop ones, plus the X-Forwarded-* the instances trust (TRUST_PROXY=loopback). */
function forwardedHeaders(req: http.IncomingMessage, length: number): http.OutgoingHttpHeaders {
  const named = new Set((req.headers.connection ?? "").split(",").map((h) => h.trim().toLowerCase()));
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) headers[name] = value;
  }
  // The front is the edge: an X-Forwarded-For a client wrote is not evidence, so it is replaced, never appended to
  // (otherwise a spoofed address would become req.ip and dodge the per-IP login limit).
  headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
  headers["x-forwarded-proto"] = (req.socket as Socket & { encrypted?: boolean }).encrypted ? "https" : "http";
  if (req.headers.host) headers["x-forwarded-host"] = req.headers.host;
  if (length > 0 || !["GET", "HEAD", "OPTIONS"].includes(req.method ?? "")) headers["content-length"] = String(length);
  return headers;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        reject(Object.assign(new Error("body too large"), { status: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
