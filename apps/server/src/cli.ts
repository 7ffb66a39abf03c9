/**
 * `cloakroom` — the operator's CLI, against the same configuration (environment variables) as the server:
 *   cloakroom users add <email>          (password from stdin, or a hidden prompt)
 *   cloakroom users list | disable <email> | enable <email>
 *   cloakroom sessions list <email> | revoke --key <key> | --user <email> | --all | sweep | stats
 */
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { defaultPasswordHasher } from "./accounts.js";
import { openBackends } from "./backends.js";
import * as commands from "./cli/commands.js";
import { loadConfig } from "./config.js";

/** The usage text. */
export const USAGE = `Usage: cloakroom <command>
  users add <email>            create an account (password read from stdin or prompted)
  users list                   list accounts
  users disable <email>        disable an account and revoke all its sessions
  users enable <email>         enable an account
  sessions list <email>        list a user's live sessions
  sessions revoke --key <key>  revoke one session by its store key
  sessions revoke --user <email>   revoke every session of a user
  sessions revoke --all        revoke every session
  sessions sweep               delete expired sessions now
  sessions stats               live sessions and store capabilities
Configuration comes from the same environment variables as the server (see apps/server/README.md).`;

/** Standard streams, injectable for tests. */
export interface CliStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function readLine(streams: CliStreams, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const interactive = streams.stdin.isTTY === true;
    // A hidden prompt: readline echoes nothing we do not write ourselves.
    const output = interactive ? streams.stderr : undefined;
    if (interactive) streams.stderr.write(prompt);
    const rl = createInterface({ input: streams.stdin, output, terminal: false });
    let answered = false;
    rl.once("line", (line) => {
      answered = true;
      rl.close();
      if (interactive) streams.stderr.write("\n");
      resolve(line);
    });
    rl.once("close", () => {
      if (!answered) resolve("");
    });
  });
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Run one CLI invocation.
 * @returns the exit code (0 ok, 1 failed, 2 usage)
 */
export async function runCli(argv: string[], env: Record<string, string | undefined>, streams: CliStreams): Promise<number> {
  const [group, action, ...rest] = argv;
  const io: commands.CliIo = {
    out: (line) => void streams.stdout.write(`${line}\n`),
    err: (line) => void streams.stderr.write(`${line}\n`),
    readPassword: (prompt) => readLine(streams, prompt),
    now: Date.now,
  };
  const known = new Set(["users add", "users list", "users disable", "users enable", "sessions list", "sessions revoke", "sessions sweep", "sessions stats"]);
  if (!known.has(`${group} ${action}`)) {
    io.err(USAGE);
    return group === "help" || group === "--help" ? 0 : 2;
  }
  const needsArg = ["users add", "users disable", "users enable", "sessions list"].includes(`${group} ${action}`);
  if (needsArg && !rest[0]) {
    io.err(USAGE);
    return 2;
  }
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    io.err(loaded.message);
    return 1;
  }
  const backends = await openBackends(loaded.config);
  const deps: commands.CliDeps = { backends, passwords: defaultPasswordHasher, io };
  const arg = rest[0] as string;
  try {
    switch (`${group} ${action}`) {
      case "users add":
        return await commands.addUser(deps, arg);
      case "users list":
        return await commands.listUsers(deps);
      case "users disable":
        return await commands.setUserDisabled(deps, arg, true);
      case "users enable":
        return await commands.setUserDisabled(deps, arg, false);
      case "sessions list":
        return await commands.listSessions(deps, arg);
      case "sessions revoke":
        return await commands.revokeSessions(deps, { key: option(rest, "--key"), user: option(rest, "--user"), all: rest.includes("--all") });
      case "sessions sweep":
        return await commands.sweepSessions(deps);
      default:
        return await commands.sessionStats(deps);
    }
  } finally {
    await backends.close();
  }
}

// Run when executed directly (`node --import tsx src/cli.ts …` or bin/cloakroom.mjs), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2), process.env, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`cloakroom: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
