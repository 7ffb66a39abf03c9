/**
 * Whether a request lies under the session cookie's `path`: outside it there is no session and no Set-Cookie.
 * Two rules, each its framework's users' expectation: express-session's string prefix (cloakroom/express, /hono) and
 * RFC 6265's path-match, as @fastify/session applies it (cloakroom/fastify). They differ only where the request path
 * continues the cookie path without a "/" (`/application` under `/app`): the prefix rule gives a session there, which
 * the browser never sends the cookie to, so each such request starts a new one; path-match gives none.
 */

/** A function of a request's target (the URL as sent, query and all) and the cookie's path. */
export type PathRule = (target: string, cookiePath: string) => boolean;

/**
 * The path of a request target without its query; an absolute-form target (`http://host/a?b`) gives its path, as
 * parseurl does for express-session.
 */
export function pathnameOf(target: string): string {
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  if (path.startsWith("/") || !URL.canParse(path)) return path;
  return new URL(path).pathname;
}

/** express-session's "pathname mismatch" check: the request's path starts with the cookie's path (as a string). */
export const underPathPrefix: PathRule = (target, cookiePath) => cookiePath === "/" || pathnameOf(target).startsWith(cookiePath);

/**
 * RFC 6265 §5.1.4 path-match (@fastify/session's `verifyPath`): the paths are equal, or the cookie's path is a prefix
 * that ends with "/" or is followed by "/" in the request's path.
 */
export const underPathMatch: PathRule = (target, cookiePath) => {
  if (cookiePath === "/") return true;
  const path = pathnameOf(target);
  if (path === cookiePath) return true;
  return path.startsWith(cookiePath) && (cookiePath.endsWith("/") || path[cookiePath.length] === "/");
};
