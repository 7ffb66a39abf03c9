/**
 * Start and stop real server processes (`node --import tsx src/main.ts`, exactly what `npm start` runs), each in its
 * own process group so that stopping one never leaves a child behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** apps/server: the instances run from here, as `npm start` does. */
export const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

/** Process groups still running, killed if this process exits without stopping them (a crash, a test that threw). */
const running = new Set<number>();
process.once("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

/** A running server process. */
export interface InstanceProcess {
  /** `http://127.0.0.1:<port>`, as the server printed it (no trailing slash). */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (warnings, errors, a crash). */
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Send `signal` to the process group; resolves with the exit code (null when killed by a signal). Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Options of {@link startInstance}. */
export interface StartInstanceOptions {
  /** The whole environment of the process (nothing is inherited but what you put here). */
  env: Record<string, string>;
  /** Give up when the server has not printed its URL by then. @default 30_000 */
  timeoutMs?: number;
}

/**
 * Spawn one server and wait until it prints "Cloakroom is running at …".
 * @throws {Error} when it exits or stays silent first (its stderr in the message); the process is stopped then
 */
export async function startInstance(options: StartInstanceOptions): Promise<InstanceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: options.env,
    cwd: APP_DIR,
    detached: true, // its own process group: killing -pid reaches anything it spawns
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => (out += String(chunk)));
  child.stderr?.on("data", (chunk) => (err += String(chunk)));
  const pid = child.pid;
  if (pid !== undefined) running.add(pid);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      if (pid !== undefined) running.delete(pid);
      resolve(code);
    }),
  );

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    }
    return exited;
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start within ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
      const check = (): void => {
        const match = /running at (http:\/\/\S+?)\/ /.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on("data", check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${String(code)}`));
      });
    });
    return { url, child, stderr: () => err, alive: () => child.exitCode === null && child.signalCode === null, stop };
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(`${(error as Error).message}: ${err.trim().split("\n").slice(-3).join(" | ") || "(no stderr)"}`);
  }
}
