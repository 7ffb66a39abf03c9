/** What this server keeps in a session (declaration merging into cloakroom's SessionData). */

/** How a session signed in; shown on the dashboard and the devices page. */
export type SignInMethod = "password" | "passkey";

declare module "cloakroom" {
  interface SessionData {
    /** The signed-in account; setting it rotates the ticket (cloakroom's identityKey, default "userId"). */
    userId?: string;
    /** The synchronizer token of the HTML forms; a new one at every login. */
    csrf?: string;
    /** When the user last typed their password in this session (ms): gates session management (ASVS 5.0 V7.5.2). */
    authAt?: number;
    /** How this session signed in. */
    authMethod?: SignInMethod;
    /** The challenge of a passkey ceremony in progress (see passkeys/challenge.ts). */
    webauthn?: { challenge: string; purpose: "register" | "login"; expiresAt: number };
  }
}

