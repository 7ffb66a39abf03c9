/**
 * Express's and Fastify's `trust proxy` rule, for adapters whose framework has none (cloakroom/hono): which hops of
 * X-Forwarded-For to believe, and so the client's address and whether X-Forwarded-Proto counts. The same values
 * and the same walk as proxy-addr (what Express's `req.ip` and Fastify's `request.ip` use), on node:net's BlockList.
 */
import { BlockList, isIP } from "node:net";

/**
 * Which proxies in front are trusted, as Express's "trust proxy" setting and Fastify's `trustProxy` option take it:
 * `true` (every hop), `false` (none: the socket's peer is the client), a number of hops, addresses and subnets
 * (`"10.0.0.0/8"`, `"::1"`, the names `loopback`, `linklocal`, `uniquelocal`; a comma list or an array), or
 * `(address, hop) => boolean`.
 */
export type TrustProxy = boolean | number | string | readonly string[] | ((address: string, hop: number) => boolean);

/** A compiled rule: whether the address at `hop` (0: the socket's peer) is a trusted proxy. */
export type TrustRule = (address: string, hop: number) => boolean;

const NAMED: Record<string, readonly string[]> = {
  loopback: ["127.0.0.1/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

const NEVER: TrustRule = () => false;
const ALWAYS: TrustRule = () => true;

/**
 * Compile a {@link TrustProxy} value.
 * @param option the option's name, for errors
 * @throws {TypeError} naming the option, for a value that is none of the above or an address that does not parse
 */
export function compileTrust(value: TrustProxy | undefined, option = "trustProxy"): TrustRule {
  if (value === undefined || value === false) return NEVER;
  if (value === true) return ALWAYS;
  if (typeof value === "function") return value;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`${option} option: a number of hops must be a non-negative integer`);
    return (_address, hop) => hop < value;
  }
  const entries = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : null;
  if (entries === null) throw new TypeError(`${option} option must be a boolean, a number of hops, addresses or a function`);
  const list = new BlockList();
  for (const raw of entries) {
    const entry = String(raw).trim();
    for (const subnet of NAMED[entry] ?? [entry]) addSubnet(list, subnet, option);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
  };
}

function addSubnet(list: BlockList, subnet: string, option: string): void {
  const slash = subnet.lastIndexOf("/");
  const address = slash === -1 ? subnet : subnet.slice(0, slash);
  const family = isIP(address);
  const bits = family === 6 ? 128 : 32;
  const prefix = slash === -1 ? bits : Number(subnet.slice(slash + 1));
  if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > bits || (slash !== -1 && !/^\d+$/.test(subnet.slice(slash + 1)))) {
    throw new TypeError(`${option} option: "${subnet}" is not an address or a subnet (address/prefix length)`);
  }
  list.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client's address: walk from the socket's peer through X-Forwarded-For, right to left, and stop at the first
 * address that is not a trusted proxy (proxy-addr's walk; all trusted: the leftmost). `undefined` when there is no
 * socket address, or when what the walk ends on is not an IP address (a forged header's text is never recorded).
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | string[] | undefined, trust: TrustRule): string | undefined {
  if (remote === undefined) return undefined;
  if (trust === NEVER || forwardedFor === undefined) return remote;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",");
  let address = remote;
  for (let hop = 0, i = hops.length - 1; i >= 0; hop += 1, i -= 1) {
    if (!trust(address, hop)) break;
    address = hops[i]!.trim();
  }
  return address === remote || isIP(address) !== 0 ? address : undefined;
}

/** Whether the socket's peer is a trusted proxy, so its X-Forwarded-Proto counts (Express's `req.protocol`). */
export function trustsPeer(remote: string | undefined, trust: TrustRule): boolean {
  return trust !== NEVER && remote !== undefined && trust(remote, 0);
}

/** Whether the rule trusts nobody (the default): the adapter can skip the header work. */
export function trustsNobody(trust: TrustRule): boolean {
  return trust === NEVER;
}
