/**
 * The operator commands behind the `cloakroom` CLI. Each takes the opened backends and an output sink, and returns
 * an exit code; nothing here reads process state, so tests call them directly.
 */
import { normalizeEmail } from "cloakroom/auth";
import type { PasswordHasher } from "../accounts.js";
import { registerUser } from "../accounts.js";
import type { Backends } from "../backends.js";
import { describeDuration } from "../duration.js";
import { createLogger } from "../logger.js";
import type { UserRecord } from "../users/types.js";

/** Where a command writes, and how it asks for a password. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Read a password (from stdin or a hidden prompt). */
  readPassword(prompt: string): Promise<string>;
  now(): number;
}

/** What a command works on. */
export interface CliDeps {
  backends: Pick<Backends, "store" | "users">;
  passwords: PasswordHasher;
  io: CliIo;
}

async function findUser(deps: CliDeps, email: string): Promise<UserRecord | null> {
  const normalized = normalizeEmail(email);
  const user = normalized ? await deps.backends.users.findUserByEmail(normalized) : null;
  if (!user) deps.io.err(`No user with email ${email}`);
  return user;
}

/** `users add <email>`: create an account; the password is read, never taken from the command line. */
export async function addUser(deps: CliDeps, email: string): Promise<number> {
  const password = await deps.io.readPassword(`Password for ${email}: `);
  const result = await registerUser({ users: deps.backends.users, passwords: deps.passwords, logger: createLogger({ level: "silent" }) }, { email, password });
  if (!result.ok) {
    deps.io.err(`Cannot add user: ${result.message}`);
    return 1;
  }
  deps.io.out(`Added ${result.user.email} (id ${result.user.id})`);
  return 0;
}

/** `users list`: every account, one line each. */
export async function listUsers(deps: CliDeps): Promise<number> {
  const users = await deps.backends.users.listUsers({ limit: 100_000 });
  if (users.length === 0) deps.io.out("No users.");
  for (const u of users) {
    deps.io.out(`${u.id}  ${u.email}  ${u.disabled ? "disabled" : "active"}  created ${new Date(u.createdAt).toISOString()}`);
  }
  return 0;
}

/** `users disable|enable <email>`. Disabling also revokes every session of the user (ASVS 5.0 V7.4.2). */
export async function setUserDisabled(deps: CliDeps, email: string, disabled: boolean): Promise<number> {
  const user = await findUser(deps, email);
  if (!user) return 1;
  await deps.backends.users.setUserDisabled(user.id, disabled);
  if (!disabled) {
    deps.io.out(`Enabled ${user.email}`);
    return 0;
  }
  const revoked = await deps.backends.store.destroyByUser(user.id);
  deps.io.out(`Disabled ${user.email}; revoked ${revoked} session(s)`);
  return 0;
}

/** `sessions list <email>`: the user's live sessions (not for stores that cannot list). */
export async function listSessions(deps: CliDeps, email: string): Promise<number> {
  if (!deps.backends.store.capabilities.listByUser) {
    deps.io.err("This session store cannot list sessions by user; `sessions revoke --user` still works.");
    return 1;
  }
  const user = await findUser(deps, email);
  if (!user) return 1;
  const sessions = await deps.backends.store.listByUser(user.id);
  const now = deps.io.now();
  if (sessions.length === 0) deps.io.out(`No live sessions for ${user.email}.`);
  for (const { key, record } of sessions) {
    const expires = Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
    deps.io.out(
      `${key}  ip ${record.meta.ip ?? "?"}  created ${new Date(record.createdAt).toISOString()}  last seen ${describeDuration(now - record.touchedAt)} ago  expires in ${describeDuration(expires - now)}  ${record.cookieMaxAge === null ? "browser-session" : "persistent"}  ${record.meta.userAgent ?? ""}`.trimEnd(),
    );
  }
  return 0;
}

/** `sessions revoke --key K | --user E | --all`. */
export async function revokeSessions(deps: CliDeps, target: { key?: string; user?: string; all?: boolean }): Promise<number> {
  const store = deps.backends.store;
  if (target.all) {
    await store.clear();
    deps.io.out("Revoked every session.");
    return 0;
  }
  if (target.user) {
    const user = await findUser(deps, target.user);
    if (!user) return 1;
    const count = await store.destroyByUser(user.id);
    deps.io.out(`Revoked ${count} session(s) of ${user.email}`);
    return 0;
  }
  if (target.key) {
    const existed = (await store.get(target.key)) !== null;
    await store.destroy(target.key);
    if (!existed) {
      deps.io.err("No live session with that key.");
      return 1;
    }
    deps.io.out("Revoked 1 session.");
    return 0;
  }
  deps.io.err("Say which sessions: --key <store key>, --user <email> or --all");
  return 2;
}

/** `sessions sweep`: delete expired records now (a no-op on stores with native TTL). */
export async function sweepSessions(deps: CliDeps): Promise<number> {
  const removed = await deps.backends.store.sweep();
  deps.io.out(`Removed ${removed} expired session(s).`);
  return 0;
}

/** `sessions stats`: live sessions and what the store can do. */
export async function sessionStats(deps: CliDeps): Promise<number> {
  const { capabilities } = deps.backends.store;
  const count = capabilities.count ? String(await deps.backends.store.count()) : "not countable on this store";
  deps.io.out(`live sessions: ${count}`);
  deps.io.out(`list by user: ${capabilities.listByUser ? "yes" : "no"}`);
  deps.io.out(`native TTL: ${capabilities.nativeTtl ? "yes" : "no (expired records are swept)"}`);
  return 0;
}
