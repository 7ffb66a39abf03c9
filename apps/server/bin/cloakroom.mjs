#!/usr/bin/env node
// The operator CLI: runs src/cli.ts through tsx (no build step), passing arguments, streams and exit code through.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const result = spawnSync(process.execPath, ["--import", "tsx", cli, ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: fileURLToPath(new URL("..", import.meta.url)),
});
if (result.error) {
  console.error(`cloakroom: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
