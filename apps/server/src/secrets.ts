/**
 * Where the session-signing secrets come from: SESSION_SECRETS, or (development only) a generated secret kept in
 * the data folder so sessions survive restarts.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { ServerConfig } from "./config.js";

/** The outcome of {@link resolveSessionSecrets}. `generated` is true when a new secret file was written. */
export type SecretsResult =
  | { ok: true; secrets: string[]; source: "env" | "file"; generated: boolean; file?: string }
  | { ok: false; message: string };

/** The name of the generated secret file inside DATA_DIR. */
export const SECRET_FILE_NAME = "session-secret";

/**
 * Pick the session secrets for this configuration.
 * - SESSION_SECRETS set: use it.
 * - Unset with NODE_ENV=production: refuse (a generated secret would differ per instance and hide a mistake).
 * - Otherwise: read DATA_DIR/session-secret, creating it (mode 0600) with 32 random bytes when missing.
 * @returns the secrets, or a one-line message for the operator
 */
export function resolveSessionSecrets(config: Pick<ServerConfig, "env" | "sessionSecrets" | "dataDir">): SecretsResult {
  if (config.sessionSecrets) return { ok: true, secrets: config.sessionSecrets, source: "env", generated: false };
  if (config.env === "production") {
    return {
      ok: false,
      message: "Invalid configuration: SESSION_SECRETS is required when NODE_ENV=production (comma-separated, each at least 32 characters)",
    };
  }
  const file = path.join(config.dataDir, SECRET_FILE_NAME);
  try {
    const existing = fs.readFileSync(file, "utf8").trim();
    if (existing.length >= 32) return { ok: true, secrets: [existing], source: "file", generated: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      return { ok: false, message: `Cannot read the session secret file ${file}: ${(error as Error).message}` };
    }
  }
  const secret = randomBytes(32).toString("base64url");
  try {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    return { ok: false, message: `Cannot write the session secret file ${file}: ${(error as Error).message}` };
  }
  return { ok: true, secrets: [secret], source: "file", generated: true, file };
}
