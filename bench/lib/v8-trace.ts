/**
 * Reading V8's `--trace-opt --trace-deopt` output, written by the server under test to a file of its own
 * (`--redirect-code-traces-to`: V8 opens and closes that file around every trace, so what it holds is up to date when
 * read, unlike V8's other traces on a piped stdout, which C's stdio buffers). bench:steady reads it between stretches
 * of requests to tell when the server has stopped tiering up, and after the counted window to say what, if anything,
 * was compiled or deoptimized inside it.
 */
import { readFile } from "node:fs/promises";

/**
 * The tier changes in a trace, in order: `optimize <function>` for each optimizing compile begun (OSR included),
 * `deopt <function>` for each deoptimization. A function without a name is `(anonymous)`.
 */
export function tierChanges(trace: string): string[] {
  const changes: string[] = [];
  for (const line of trace.split("\n")) {
    const kind = line.startsWith("[compiling method") ? "optimize" : line.startsWith("[bailout") ? "deopt" : null;
    if (kind === null) continue;
    const name = /<JSFunction ([^ >(][^ >]*)?/.exec(line)?.[1] ?? "(anonymous)";
    changes.push(`${kind} ${name}`);
  }
  return changes;
}

/** {@link tierChanges} of a trace file; none when V8 has not written it yet. */
export async function tierChangesIn(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return tierChanges(text);
}

/** `["optimize a", "optimize a", "deopt b"]` → `"optimize a ×2, deopt b"`. */
export function summarizeChanges(changes: string[]): string {
  const counts = new Map<string, number>();
  for (const change of changes) counts.set(change, (counts.get(change) ?? 0) + 1);
  return [...counts].map(([change, n]) => (n > 1 ? `${change} ×${n}` : change)).join(", ");
}
