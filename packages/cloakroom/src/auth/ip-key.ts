/**
 * The bucket an IP address is counted in by the rate limits.
 */
import { isIPv4, isIPv6 } from "node:net";

/**
 * Map a client IP address to the key its requests are counted under. IPv4 addresses count alone; an IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`, what a dual-stack socket reports) counts as the IPv4 address; any other IPv6 address
 * counts as its /64 network, because one subscriber usually holds a whole /64 and could otherwise rotate through
 * 2^64 addresses to dodge a per-IP limit. Anything else (an empty or unparsable value) is used as given, lower-cased.
 *
 * Pass the address your framework derived with the proxy trust set exactly (Express `req.ip` with `trust proxy`),
 * never a raw `X-Forwarded-For` header (SECURITY-CHECKLIST §5.13).
 *
 * @param ip The client address.
 * @returns A stable key such as `192.0.2.1` or `2001:db8:0:1::/64`.
 * @example
 * ipRateLimitKey("2001:db8:0:1:aaaa::1") // "2001:db8:0:1::/64"
 */
export function ipRateLimitKey(ip: string): string {
  const address = String(ip).trim().toLowerCase().replace(/%.*$/, ""); // drop an IPv6 zone id ("fe80::1%eth0")
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function expandIPv6(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string): number[] => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
