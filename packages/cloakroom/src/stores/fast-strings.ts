/**
 * Gives `String.prototype` back its fast properties after a Redis client has slowed every string method call in the
 * process: ioredis 6 (like node-redis) defines `class VerbatimString extends String` when it loads, after which V8
 * holds `String.prototype`'s properties as a dictionary, and optimized code can no longer inline a method load on a
 * string (`s.slice`, `s.charCodeAt`, `s.indexOf`): each becomes a call to the LoadIC builtin. Natively four such calls
 * went from 10 to 40 ns; under callgrind MemoryStore's record decoder cost 7.6k instructions a read in a process that
 * had loaded ioredis against 1.2k in one that had not, and the whole request 30k more (bench/README.md, "Redis clients
 * and String.prototype"). The slowdown reaches Express's and the application's code alike.
 *
 * V8 makes a prototype fast again when an inline cache loads a property through it from an object receiver, which no
 * code does for `String.prototype` (strings are primitives). This function does it, enough times for V8 to give the
 * loading function its feedback vector (it does after about ten calls). Nothing observable changes: it reads
 * `slice` off an object that inherits from `String.prototype`. Written by hand: no library does this (bluebird's
 * toFastProperties trick, `F.prototype = o; new F()`, leaves `String.prototype` as it is: measured).
 */
export function restoreFastStringMethods(): void {
  const probe = Object.create(String.prototype) as { slice: unknown };
  for (let i = 0; i < 64; i += 1) loadSlice(probe);
}

function loadSlice(probe: { slice: unknown }): unknown {
  return probe.slice;
}
