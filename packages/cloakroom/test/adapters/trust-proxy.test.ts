/**
 * The trust-proxy rule against proxy-addr (what Express's `req.ip` and Fastify's `request.ip` are computed with),
 * over the same socket addresses, X-Forwarded-For chains and trust settings.
 */
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { clientAddress, compileTrust, trustsPeer, type TrustProxy } from "../../src/adapters/trust-proxy.js";

/** proxy-addr (Express's dependency, untyped): the client address of a request under a trust rule. */
interface ProxyAddr {
  (req: IncomingMessage, trust: (address: string, hop: number) => boolean): string;
  compile(subnets: string[]): (address: string, hop: number) => boolean;
}
const proxyaddr = createRequire(import.meta.url)("proxy-addr") as ProxyAddr;

/** proxy-addr's answer for a socket address and an X-Forwarded-For header. */
function expressIp(remote: string, forwarded: string | undefined, trust: TrustProxy): string {
  const req = { socket: { remoteAddress: remote }, connection: { remoteAddress: remote }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } };
  const rule = typeof trust === "function" || typeof trust === "number" || typeof trust === "boolean"
    ? (typeof trust === "boolean" ? () => trust : typeof trust === "number" ? (_a: string, i: number) => i < trust : trust)
    : proxyaddr.compile(typeof trust === "string" ? trust.split(",").map((s) => s.trim()) : [...trust]);
  return proxyaddr(req as unknown as IncomingMessage, rule);
}

const CHAINS: [remote: string, forwarded: string | undefined][] = [
  ["127.0.0.1", undefined],
  ["127.0.0.1", "203.0.113.7"],
  ["127.0.0.1", "198.51.100.1, 10.0.0.2"],
  ["10.0.0.2", "198.51.100.1, 10.0.0.3, 127.0.0.1"],
  ["::ffff:127.0.0.1", "2001:db8::1"],
  ["::1", "2001:db8::1,  192.168.1.5 ,10.1.1.1"],
  ["203.0.113.9", "10.0.0.1"],
  ["192.168.0.10", "fe80::1, 169.254.3.4"],
];
const TRUSTS: TrustProxy[] = [false, true, 0, 1, 2, 5, "loopback", "loopback, uniquelocal", ["10.0.0.0/8", "127.0.0.1"], "linklocal,uniquelocal,loopback", "::1/128", "192.168.0.0/16", (a: string) => a.startsWith("10.")];

describe("trust proxy (as Express and Fastify)", () => {
  it.each(TRUSTS.map((t) => [typeof t === "function" ? "a function" : JSON.stringify(t), t] as const))("gives proxy-addr's client address with %s", (_label, trust) => {
    const rule = compileTrust(trust);
    for (const [remote, forwarded] of CHAINS) {
      expect([remote, forwarded, clientAddress(remote, forwarded, rule)]).toEqual([remote, forwarded, expressIp(remote, forwarded, trust)]);
    }
  });

  it("never records text that is not an IP address, and nothing without a socket address", () => {
    expect(clientAddress("127.0.0.1", "<script>, 10.0.0.1", compileTrust(true))).toBeUndefined();
    expect(clientAddress("127.0.0.1", "not-an-ip", compileTrust("loopback"))).toBeUndefined();
    expect(clientAddress("203.0.113.9", "not-an-ip", compileTrust("loopback"))).toBe("203.0.113.9");
    expect(clientAddress(undefined, "203.0.113.7", compileTrust(true))).toBeUndefined();
    expect(clientAddress("127.0.0.1", ["198.51.100.1", "10.0.0.2"], compileTrust(2))).toBe("198.51.100.1");
  });

  it("trusts the peer's X-Forwarded-Proto only when the peer is a trusted proxy", () => {
    expect(trustsPeer("127.0.0.1", compileTrust("loopback"))).toBe(true);
    expect(trustsPeer("203.0.113.9", compileTrust("loopback"))).toBe(false);
    expect(trustsPeer("203.0.113.9", compileTrust(false))).toBe(false);
    expect(trustsPeer(undefined, compileTrust(true))).toBe(false);
    expect(trustsPeer("203.0.113.9", compileTrust(1))).toBe(true);
  });

  it.each([[-1], [1.5], ["10.0.0.0/33"], ["not an address"], ["10.0.0.1/x"], [{}]])("refuses %j, naming the option", (bad) => {
    expect(() => compileTrust(bad as TrustProxy)).toThrow(/trustProxy option/);
  });
});
