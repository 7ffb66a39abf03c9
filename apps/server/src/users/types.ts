/** The user accounts the server authenticates, and the small contract each backend (SQLite, PostgreSQL) implements. */

/** One account. `email` is stored normalized (see `normalizeEmail` in cloakroom/auth). Times are epoch ms. */
export interface UserRecord {
  id: string;
  email: string;
  /**
   * A PHC string (argon2id) or a legacy bcrypt hash; `null` for an account that signs in with passkeys only. Never
   * logged, never rendered.
   */
  passwordHash: string | null;
  disabled: boolean;
  /** When the owner followed a verification or reset link (epoch ms); `null` = the address was never confirmed. */
  emailVerifiedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A users-table row as either driver returns it (SQLite: 0/1 and numbers; PostgreSQL: booleans and BIGINT strings). */
export interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  disabled: boolean | number;
  created_at: string | number;
  updated_at: string | number;
  email_verified_at: string | number | null;
}

/** A row as a {@link UserRecord}, or `null` for no row. */
export function toUser(row: UserRow | undefined): UserRecord | null {
  if (!row) return null;
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    disabled: row.disabled === true || row.disabled === 1,
    emailVerifiedAt: row.email_verified_at === null || row.email_verified_at === undefined ? null : Number(row.email_verified_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** What {@link UserRepository.createUser} needs. */
export interface NewUser {
  email: string;
  passwordHash: string;
}

/**
 * Storage for accounts. Emails are unique case-insensitively; callers pass them normalized.
 * Every method may reject with an infrastructure error (the driver's error as `cause`).
 */
export interface UserRepository {
  /** Create the table if needed. Idempotent. */
  migrate(): Promise<void>;
  /** @returns the account, or `null` when no account has this (normalized) email */
  findUserByEmail(email: string): Promise<UserRecord | null>;
  /** @returns the account, or `null` when missing */
  findUserById(id: string): Promise<UserRecord | null>;
  /** @returns the new account, or `null` when the email is already taken (nothing is written then) */
  createUser(user: NewUser): Promise<UserRecord | null>;
  /** Replace the password hash (`null`: no password, passkeys only). @returns `false` when the account does not exist */
  updatePasswordHash(id: string, passwordHash: string | null): Promise<boolean>;
  /** Disable or enable an account. @returns `false` when the account does not exist */
  setUserDisabled(id: string, disabled: boolean): Promise<boolean>;
  /** Record that the owner controls the address (idempotent: the first time is kept). @returns `false` when missing */
  markEmailVerified(id: string): Promise<boolean>;
  /** Accounts ordered by creation time, oldest first. */
  listUsers(options?: { limit?: number; offset?: number }): Promise<UserRecord[]>;
  /** Cheap round trip for readiness checks; rejects when the database is unreachable. */
  ping(): Promise<void>;
  /** Release what the repository opened itself (not a database handle passed in). */
  close(): Promise<void>;
}

/** Table names are interpolated into SQL, so they are restricted to plain identifiers. */
export function assertTableName(name: string, option = "tableName"): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new TypeError(`${option} must be a lower-case SQL identifier (letters, digits, underscores), got ${JSON.stringify(name)}`);
  }
  return name;
}
