/**
 * The WebAuthn relying party this server is: its RP ID is PUBLIC_URL's host name and the only origin it accepts is
 * PUBLIC_URL's origin (WebAuthn L3 §5.1.3 step 9, §7.1 step 9). Browsers refuse an IP address as RP ID and need a
 * secure context (HTTPS, or http://localhost), so any other PUBLIC_URL has no passkeys.
 */
import { isIP } from "node:net";

/** Who the authenticator binds passkeys to. */
export interface RelyingParty {
  /** The RP ID: a registrable host name (`auth.example.com`, `localhost`). */
  id: string;
  /** The one origin accepted in the client data (`https://auth.example.com`). */
  origin: string;
  /** Shown by the authenticator. */
  name: string;
}

/** Why {@link relyingPartyOf} gave no relying party, for the start-up warning and the passkeys page. */
export const PASSKEYS_UNAVAILABLE = "Passkeys need PUBLIC_URL to be an https:// origin with a host name (or http://localhost); an IP address cannot be a WebAuthn RP ID.";

/**
 * The relying party for a PUBLIC_URL, or `null` when browsers would refuse passkeys there.
 * @example relyingPartyOf("https://auth.example.com") // { id: "auth.example.com", origin: "https://auth.example.com", name: "Cloakroom" }
 */
export function relyingPartyOf(publicUrl: string): RelyingParty | null {
  const url = new URL(publicUrl);
  const host = url.hostname;
  if (isIP(host.replace(/^\[|\]$/g, "")) !== 0) return null;
  const local = host === "localhost" || host.endsWith(".localhost");
  if (url.protocol !== "https:" && !local) return null;
  return { id: host, origin: url.origin, name: "Cloakroom" };
}
