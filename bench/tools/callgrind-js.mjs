/**
 * Which JavaScript functions a bench:steady callgrind dump's instructions were spent in:
 *   BENCH_SERVER_FLAGS=--perf-basic-prof VALGRIND_OPTS=--dump-instr=yes BENCH_STEADY_KEEP=1 npm run bench:steady -w @cloakroom/bench -- cr-memory
 *   node bench/tools/callgrind-js.mjs <dir>/out.<pid>.1 /tmp/perf-<pid>.map <counted requests>
 * Per function: self instructions, the inclusive cost of its calls into inline-cache / runtime builtins, and of its
 * calls into other builtins, per request (FILTER=regexp, TOP=n, CALLEES=1 lists the callees). callgrind knows JIT code
 * only by address; V8's perf map (--perf-basic-prof) names the code at each address, the latest entry winning where
 * code was moved or collected. Written by hand: no library reads callgrind's compressed, per-instruction format.
 */
import { readFileSync } from "node:fs";
const [dump, mapFile, countArg] = process.argv.slice(2); const count = Number(countArg);
const map = readFileSync(mapFile, "utf8").split("\n").filter(Boolean).map((l, i) => { const [a, s, ...n] = l.split(" "); return [parseInt(a, 16), parseInt(s, 16), n.join(" "), i]; }).sort((x, y) => x[0] - y[0]);
let maxSize = 0; for (const e of map) maxSize = Math.max(maxSize, e[1]);
const memo = new Map();
function js(addr) { if (memo.has(addr)) return memo.get(addr); let lo = 0, hi = map.length - 1, best = -1; while (lo <= hi) { const m = (lo + hi) >> 1; if (map[m][0] <= addr) { best = m; lo = m + 1; } else hi = m - 1; }
  let pick = null; for (let k = best; k >= 0 && map[k][0] + maxSize > addr; k--) { const e = map[k]; if (addr < e[0] + e[1] && (pick === null || e[3] > pick[3])) pick = e; }
  const r = pick && !pick[2].startsWith("Builtin:") ? pick[2] : null; memo.set(addr, r); return r; }
const names = new Map(); let cfn = "", after = false, last = 0;
const rows = new Map(); const row = (n) => { let r = rows.get(n); if (!r) rows.set(n, (r = { self: 0, ic: 0, other: 0, callees: new Map() })); return r; };
const isIC = (n) => /IC|CEntry|Runtime_|LookupIterator/.test(n);
const isJSTarget = (n) => /^0x/.test(n);
function pos(tok) { if (tok === "*") return last; if (tok[0] === "+") return last + parseInt(tok.slice(1), tok.startsWith("+0x") ? 16 : 10); if (tok[0] === "-") return last - parseInt(tok.slice(1), 10); return parseInt(tok, 16); }
for (const line of readFileSync(dump, "utf8").split("\n")) {
  const m = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
  if (m) { if (m[3] !== undefined) names.set(m[2], m[3]); const n = names.get(m[2]) ?? m[2]; if (m[1] === "cfn") cfn = n; continue; }
  if (line.startsWith("calls=")) { after = true; continue; }
  if (!/^(0x|\+|-|\*)/.test(line)) continue;
  const parts = line.split(" "); const t = parts[0], c = parts[parts.length === 3 ? 2 : 1]; const addr = pos(t); last = addr; const cost = Number(c); if (!Number.isFinite(cost)) { after = false; continue; }
  const name = js(addr);
  if (after) { after = false; if (name && !isJSTarget(cfn)) { const r = row(name); if (isIC(cfn)) r.ic += cost; else r.other += cost; const k = cfn.replace(/\(.*$/, "").slice(0, 60); r.callees.set(k, (r.callees.get(k) ?? 0) + cost); } }
  else if (name) row(name).self += cost;
}
const out = [...rows].map(([n, r]) => [n, r.self / count, r.ic / count, r.other / count, r]).sort((a, b) => b[1] + b[2] + b[3] - a[1] - a[2] - a[3]);
const filter = process.env.FILTER ? new RegExp(process.env.FILTER) : null;
for (const [n, s, i, o, r] of out.filter((x) => !filter || filter.test(x[0])).slice(0, Number(process.env.TOP ?? 50))) {
  console.log(String(Math.round(s)).padStart(6), String(Math.round(i)).padStart(6), String(Math.round(o)).padStart(6), n.replace("/work/main/packages/cloakroom/", "").slice(0, 120));
  if (process.env.CALLEES) for (const [k, v] of [...r.callees].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log("                     ", String(Math.round(v / count)).padStart(6), k);
}
