/**
 * Self cost per function of a callgrind dump, and the same summed by what the instructions were spent on (V8's
 * runtime and inline-cache misses, the garbage collector, the optimizing compiler, builtins, JIT-compiled
 * JavaScript, Node/libuv/llhttp, libc). callgrind_annotate prints inclusive figures that recursion through V8's
 * call builtins makes meaningless here, and it has no such grouping; the format is simple enough to read directly
 * (https://valgrind.org/docs/manual/cl-format.html): a cost line right after a `calls=` line is the inclusive cost
 * of that call, every other cost line is self cost of the current `fn=`; the `calls=` line itself says how many calls
 * to the last `cfn=` it stands for.
 */
import { readFile } from "node:fs/promises";

export interface DumpCosts {
  /** Self cost per function name. */
  self: Map<string, number>;
  /** How many times each function was called in the dump's window (the sum of the `calls=` lines naming it). */
  calls: Map<string, number>;
}

export async function readDump(file: string): Promise<DumpCosts> {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  const calls = new Map<string, number>();
  let fn = "";
  let callee = "";
  let afterCalls = false;
  // A cost line is its positions (`instr`, `line` or both: VALGRIND_OPTS=--dump-instr=yes adds `instr`), then the cost.
  let positions = 1;
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (line.startsWith("positions:")) positions = line.trim().split(/\s+/).length - 1;
    const named = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[3] !== undefined) names.set(named[2]!, named[3]);
      const name = names.get(named[2]!) ?? named[2]!;
      if (named[1] === "fn") fn = name;
      else callee = name;
      continue;
    }
    if (line.startsWith("calls=")) {
      calls.set(callee, (calls.get(callee) ?? 0) + Number.parseInt(line.slice(6), 10));
      afterCalls = true;
      continue;
    }
    if (!/^[\d+*-]/.test(line)) continue;
    const cost = Number(line.split(" ")[positions]);
    if (afterCalls) afterCalls = false;
    else if (Number.isFinite(cost)) self.set(fn, (self.get(fn) ?? 0) + cost);
  }
  return { self, calls };
}

/** Calls in the window to the functions whose name matches `pattern`. */
export function callsTo(dump: DumpCosts, pattern: RegExp): number {
  let sum = 0;
  for (const [name, count] of dump.calls) if (pattern.test(name)) sum += count;
  return sum;
}

const CATEGORIES: [string, RegExp][] = [
  ["JIT-compiled JavaScript", /^0x[0-9a-f]+/],
  ["optimizing compiler", /compiler::|Compil|Turbofan|maglev/i],
  ["garbage collector", /Scaveng|Mark|Sweep|Heap::|heap::|Evacuat|Remembered|SlotSet|BodyDescriptor|MemoryChunk|LiveObject|SizeFromMap|RecordWrite|RelocIterator|FreeList/],
  ["builtins", /^Builtins_/],
  ["runtime (inline-cache misses, maps, lookups)", /LookupIterator|IC::|Runtime_|Map::|JSObject::|DescriptorArray|FieldIndex|Feedback|StubCache|Prototype|Transition|Object::|Lookup/],
  ["Node, libuv, llhttp", /^node::|^uv_|^uv__|llhttp/],
  ["libc", /malloc|free|^mem|^str|^__/],
];

/** Self cost summed by category, largest first. */
export function byCategory(costs: Map<string, number>): [string, number][] {
  const sums = new Map<string, number>();
  for (const [name, cost] of costs) {
    const category = CATEGORIES.find(([, pattern]) => pattern.test(name))?.[0] ?? "other V8 and native code";
    sums.set(category, (sums.get(category) ?? 0) + cost);
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}
