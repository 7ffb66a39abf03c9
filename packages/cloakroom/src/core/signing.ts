/**
 * express-session's signed cookie value: `s:<ticket>.<base64 HMAC-SHA256(ticket), no padding>`.
 * Same algorithm as cookie-signature, so a cookie express-session signed with the same secret verifies here.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";

/** The outcome of reading a signed value. */
export interface UnsignResult {
  /** The ticket inside the value. */
  ticket: string;
  /** True when a secret other than the first one verified it: re-sign with the current secret on this response. */
  needsResign: boolean;
}

/** Signs with the first secret, verifies with all of them. Keys are imported once, here, not per request. */
export interface Signer {
  /** @returns `s:<ticket>.<mac>` */
  sign(ticket: string): string;
  /** @returns the ticket and whether to re-sign, or `null` for anything not signed by one of our secrets */
  unsign(value: string): UnsignResult | null;
}

/** The longest signed value worth verifying: a ticket (43) or an express-session id (32), with room for custom genids. */
const MAX_SIGNED_LENGTH = 512;

function macOf(key: KeyObject, ticket: string): Buffer {
  return createHmac("sha256", key).update(ticket).digest();
}

/**
 * Prepare a signer for one or more secrets.
 * @param secrets the secrets; the first signs, every one verifies (rotate by putting the new secret first)
 * @throws {TypeError} when no secret is given or one is empty
 * @example
 * const signer = createSigner(["new secret…", "old secret…"]);
 * signer.unsign(signer.sign(ticket)); // { ticket, needsResign: false }
 */
export function createSigner(secrets: readonly (string | Buffer)[]): Signer {
  if (secrets.length === 0) throw new TypeError("secret option array must contain one or more strings");
  const keys = secrets.map((secret, i) => {
    if ((typeof secret !== "string" && !Buffer.isBuffer(secret)) || secret.length === 0) {
      throw new TypeError(`secret option: entry ${i} must be a non-empty string`);
    }
    return createSecretKey(typeof secret === "string" ? Buffer.from(secret, "utf8") : secret);
  });
  const signingKey = keys[0] as KeyObject;

  return {
    sign(ticket) {
      // cookie-signature strips base64 padding; keep the byte-identical format.
      return `s:${ticket}.${macOf(signingKey, ticket).toString("base64").replace(/=+$/, "")}`;
    },
    unsign(value) {
      if (value.length > MAX_SIGNED_LENGTH || !value.startsWith("s:")) return null;
      const dot = value.lastIndexOf(".");
      if (dot <= 2) return null;
      const ticket = value.slice(2, dot);
      const given = Buffer.from(value.slice(dot + 1), "base64");
      // 32 bytes of MAC; Buffer.from(base64) ignores junk characters, so also check the text round-trips.
      if (given.length !== 32 || given.toString("base64").replace(/=+$/, "") !== value.slice(dot + 1)) return null;
      for (let i = 0; i < keys.length; i++) {
        // Constant-time compare (cookie-signature 1.0.x compared SHA-1 digests instead).
        if (timingSafeEqual(macOf(keys[i] as KeyObject, ticket), given)) return { ticket, needsResign: i > 0 };
      }
      return null;
    },
  };
}
