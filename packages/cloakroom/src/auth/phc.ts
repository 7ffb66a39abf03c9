/**
 * argon2 PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). Internal: not re-exported.
 */

/** Argon2 version 1.3, written `v=19`. */
export const ARGON2_VERSION = 0x13;

/** The parts of an argon2 PHC string. */
export interface Argon2Phc {
  id: string;
  version: number;
  m: number;
  t: number;
  p: number;
  salt: string;
  digest: string;
}

const ARGON2_PHC = /^\$(argon2(?:id|i|d))\$(?:v=(\d+)\$)?([a-z]=\d+(?:,[a-z]=\d+)*)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Parse an argon2 PHC string whose parameters are exactly m, t and p (in any order); `null` otherwise. */
export function parseArgon2(hash: string): Argon2Phc | null {
  const match = ARGON2_PHC.exec(hash);
  if (!match) return null;
  // No "v=" means Argon2 1.0 (0x10 = 16).
  const [, id = "", version = "16", params = "", salt = "", digest = ""] = match;
  const entries = params.split(",").map((pair) => pair.split("=") as [string, string]);
  const values = new Map(entries.map(([key, value]) => [key, Number(value)]));
  const m = values.get("m");
  const t = values.get("t");
  const p = values.get("p");
  if (entries.length !== 3 || m === undefined || t === undefined || p === undefined) return null;
  return { id, version: Number(version), m, t, p, salt, digest };
}

/**
 * Write the canonical form. The argon2 package writes "m=…,p=…,t=…"; the reference implementation (RFC 9106),
 * libsodium and PHP write — and libsodium requires — "m=…,t=…,p=…", so stored hashes stay readable by other verifiers.
 */
export function formatArgon2(phc: Argon2Phc): string {
  return `$${phc.id}$v=${phc.version}$m=${phc.m},t=${phc.t},p=${phc.p}$${phc.salt}$${phc.digest}`;
}
