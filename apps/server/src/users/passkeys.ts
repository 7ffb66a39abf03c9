/**
 * The passkeys (WebAuthn credentials) of the accounts, and the small contract each backend (SQLite, PostgreSQL)
 * implements. A credential's public key, signature counter and backup flags are kept as the authenticator reported
 * them (WebAuthn L3 §6.1: the counter detects cloned authenticators; BE/BS tell a synced passkey from a device-bound one).
 */

/** One passkey. The id is the credential ID (base64url), as the browser reports it; it is not a secret. */
export interface PasskeyRecord {
  id: string;
  userId: string;
  /** The name the user gave it ("Laptop"). */
  name: string;
  /** COSE public key. */
  publicKey: Uint8Array;
  /** The authenticator's signature counter at its last use (0 for authenticators that do not count). */
  counter: number;
  /** Transports the browser reported (`internal`, `hybrid`, `usb`, …), as hints for the next ceremony. */
  transports: string[];
  /** `singleDevice` or `multiDevice` (may be synced to other devices: backup eligible). */
  deviceType: string;
  /** Whether the credential is backed up (synced) right now. */
  backedUp: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/** A passkeys-table row as either driver returns it. */
export interface PasskeyRow {
  id: string;
  user_id: string;
  name: string;
  public_key: Uint8Array;
  counter: string | number;
  transports: string;
  device_type: string;
  backed_up: boolean | number;
  created_at: string | number;
  last_used_at: string | number | null;
}

/** A row as a {@link PasskeyRecord}. */
export function toPasskey(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    publicKey: new Uint8Array(row.public_key),
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type,
    backedUp: row.backed_up === true || row.backed_up === 1,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** A record as the row values both drivers insert. */
export function toPasskeyRow(p: PasskeyRecord): PasskeyRow {
  return {
    id: p.id,
    user_id: p.userId,
    name: p.name,
    public_key: p.publicKey,
    counter: p.counter,
    transports: JSON.stringify(p.transports),
    device_type: p.deviceType,
    backed_up: p.backedUp,
    created_at: p.createdAt,
    last_used_at: p.lastUsedAt,
  };
}

/** Storage for passkeys. Every method may reject with a ServiceUnavailableError (503). */
export interface PasskeyRepository {
  /** Create the table if needed. Idempotent. */
  migrate(): Promise<void>;
  /** @returns `false` (and nothing written) when a credential with this id is already registered */
  addPasskey(passkey: PasskeyRecord): Promise<boolean>;
  /** @returns the passkey with this credential id, or `null` */
  findPasskey(id: string): Promise<PasskeyRecord | null>;
  /** The user's passkeys, oldest first. */
  listUserPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /** After a successful sign-in: the new counter and backup state, and when. */
  recordPasskeyUse(id: string, use: { counter: number; backedUp: boolean; usedAt: number }): Promise<void>;
  /** Remove one of the user's passkeys. @returns `false` when the user has no passkey with this id */
  deletePasskey(userId: string, id: string): Promise<boolean>;
}
