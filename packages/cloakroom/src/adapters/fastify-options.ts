/**
 * cloakroom/fastify's options: cloakroom/express's, read the way @fastify/session's users wrote them — its names
 * `cookieName` and `idGenerator` as aliases, its cookie rules where ours differ (`maxAge` wins over `expires`;
 * `sameSite: "none"` with an "auto" Secure is Lax over HTTP), and a TypeError for what it has and we do not.
 */
import type { FastifyRequest } from "fastify";
import type { CookieOptions } from "../core/cookie.js";
import type { AdapterOptions } from "./options.js";

/** Options: cloakroom/express's (the engine's, `secret`, `store`, `name`, `cookie` — an object or a function of the request —, `genid`), `secret` required. */
export interface FastifySessionOptions extends AdapterOptions<FastifyRequest> {
  /** @fastify/session's name for `name`. */
  cookieName?: string;
  /** @fastify/session's name for `genid`: `(request) => ticket`, called when the session is first stored. */
  idGenerator?: (request: FastifyRequest) => string;
}

/** Our options' names for @fastify/session's. */
const ALIASES = { cookieName: "name", idGenerator: "genid" } as const;

/** What @fastify/session accepts and cloakroom/fastify cannot honour, with the value that means ours. */
const REFUSED: Record<string, { ours: unknown; why: string }> = {
  cookiePrefix: { ours: "s:", why: 'the cookie value is always express-session\'s "s:<ticket>.<signature>" (@fastify/session\'s cookiePrefix "s:")' },
  algorithm: { ours: "sha256", why: "cookies are signed with HMAC-SHA256 (express-session's format)" },
};

/**
 * Read @fastify/session's spellings into cloakroom's options, ready for {@link resolveCommonOptions}.
 * @throws {TypeError} naming the option, for one that cannot be honoured
 */
export function fromFastifySessionOptions(options: FastifySessionOptions): { options: AdapterOptions<FastifyRequest>; ownKeys: string[] } {
  const given = options as FastifySessionOptions & Record<string, unknown>;
  for (const [key, { ours, why }] of Object.entries(REFUSED)) {
    if (given[key] !== undefined && given[key] !== ours) throw new TypeError(`${key} option is not supported: ${why}`);
  }
  const secret = given.secret as unknown;
  if (secret && typeof secret === "object" && !Array.isArray(secret) && !Buffer.isBuffer(secret)) {
    throw new TypeError("secret option must be a string, a Buffer or an array of them (a custom signer is not supported)");
  }
  const read: Record<string, unknown> = { ...given };
  for (const [theirs, ours] of Object.entries(ALIASES)) if (read[ours] === undefined && read[theirs] !== undefined) read[ours] = read[theirs];
  const cookie = given.cookie;
  if (typeof cookie === "function") read.cookie = (request: FastifyRequest) => asFastifySessionCookie(cookie(request));
  else if (cookie) read.cookie = asFastifySessionCookie(cookie);
  return { options: read as unknown as AdapterOptions<FastifyRequest>, ownKeys: [...Object.keys(ALIASES), ...Object.keys(REFUSED)] };
}

/**
 * @fastify/session's cookie rules where express-session's differ: with both `maxAge` and `expires`, `maxAge` wins
 * (express-session: the last one given); `sameSite: "none"` with Secure "auto" (our default) is Lax over HTTP, where
 * a browser refuses a SameSite=None cookie without Secure. Anything but an object passes through (options.ts refuses it).
 */
function asFastifySessionCookie(cookie: CookieOptions): CookieOptions {
  if (!cookie || typeof cookie !== "object") return cookie;
  const maxAgeWins = typeof cookie.maxAge === "number" && cookie.expires instanceof Date;
  const laxOverHttp = cookie.sameSite === "none" && (cookie.secure === undefined || cookie.secure === "auto");
  if (!maxAgeWins && !laxOverHttp) return cookie;
  const read: CookieOptions = { ...cookie };
  if (maxAgeWins) delete read.expires;
  if (laxOverHttp) read.sameSite = "auto";
  return read;
}
