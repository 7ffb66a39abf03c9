/**
 * Memory per session: N minimal sessions (`userId` only, default 1,000,000), inserted through each store's own API.
 * - in the heap: cloakroom's MemoryStore vs express-session's MemoryStore (V8 heapUsed after a full GC, each in a
 *   fresh process so nothing else shares the heap);
 * - in Redis: cloakroom's RedisStore (logged in, anonymous; over ioredis and over node-redis) vs connect-redis
 *   (`used_memory` delta; the Redis server is shared, so the figure carries whatever else ran meanwhile), filled in
 *   interleaved rounds (fillInterleaved).
 * Env: BENCH_MEMORY_SESSIONS, BENCH_MEMORY_ROUNDS (5).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { BENCH_DIR, isPortOpen } from "./lib/processes.js";
import { anonymousRecord, forEachConcurrent, minimalExpressSession, minimalRecord, newSessionId, newStoreKey, randomStoreKey } from "./lib/fill.js";
import { formatBytes, markdownTable, writeSection } from "./lib/report.js";
import { REDIS_URL, firstLine } from "./lib/scenarios.js";

const COUNT = Number(process.env.BENCH_MEMORY_SESSIONS ?? 1_000_000);
const TARGET_BYTES = 200;
/** Rounds of the interleaved Redis fill (see fillInterleaved). */
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 5);
/** The logical databases of the five Redis setups (each its own key table; none of the tests uses them). */
const DATABASES = [11, 12, 13, 14, 15];
/**
 * The key prefix of the Redis rows: fixed, not the run's tagged PREFIX (lib/tag.ts). The bytes per session include the
 * key, and the tag ("cloakroom-bench-<pid>-<hex>:") made every key 10–11 characters longer than sessions 1–8's
 * "cloakroom-bench:", which moved all three rows by 16 B (jemalloc's size classes: 347 → 364 B logged in, 257 → 273 B
 * for connect-redis). These rows live in their own logical databases (DATABASES), flushed before and after, so the
 * tag would not keep two runs apart here anyway.
 */
const MEMORY_PREFIX = "cloakroom-bench:";
/** How long a database is left alone before its bytes are read (bytesOfDatabase). */
const SETTLE_MS = Number(process.env.BENCH_MEMORY_SETTLE_MS ?? 20_000);

interface RedisStoreLike {
  create(key: string, record: object): Promise<void>;
  clear(): Promise<void>;
}

interface Measured {
  store: string;
  where: string;
  bytes: number | null;
  seconds: number;
  note?: string;
  /** Redis rows: CPU per session created, in µs, of this process (the client) and of the Redis server. */
  cpu?: { client: number; redis: number };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc!();
  (globalThis as { gc?: () => void }).gc!();
}

/** Child mode: fill one in-process store and print the heap delta as JSON. */
async function measureHeap(which: string): Promise<void> {
  const now = Date.now();
  let store: unknown;
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  if (which === "cloakroom") {
    const { MemoryStore } = (await import("cloakroom")) as unknown as { MemoryStore: new (o: object) => { create(k: string, r: object): Promise<void>; size: number } };
    const s = new MemoryStore({ sweepInterval: 0 });
    for (let i = 0; i < COUNT; i += 1) await s.create(newStoreKey(), minimalRecord(`user-${i}`, now));
    store = s;
  } else {
    const { default: session } = await import("express-session");
    const s = new session.MemoryStore();
    for (let i = 0; i < COUNT; i += 1) s.set(newSessionId(), minimalExpressSession(`user-${i}`) as never);
    store = s;
  }
  const seconds = (performance.now() - started) / 1000;
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ bytes: (after - before) / COUNT, seconds, alive: store !== undefined }));
}

function heapInChild(which: string): Measured {
  const label = which === "cloakroom" ? "cloakroom MemoryStore" : "express-session MemoryStore";
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", "--max-old-space-size=4096", "--import", join(BENCH_DIR, "lib/register.mjs"), fileURLToPath(import.meta.url), `--heap=${which}`],
    { encoding: "utf8", env: { ...process.env } },
  );
  const line = child.stdout.trim().split("\n").pop() ?? "";
  try {
    const { bytes, seconds } = JSON.parse(line) as { bytes: number; seconds: number };
    return { store: label, where: "V8 heap", bytes, seconds };
  } catch {
    return { store: label, where: "V8 heap", bytes: null, seconds: 0, note: `failed: ${child.stderr.trim().split("\n").pop()}` };
  }
}

async function usedMemory(info: () => Promise<string>): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await info())![1]);
}

/** One Redis setup of the interleaved fill: a store in its own logical database, filled a round at a time. */
interface RedisSetup {
  label: string;
  note?: string;
  /** Its logical database, and the prefix of every key it writes there. */
  database: number;
  prefix: string;
  /** Store sessions [from, to) of the fill, 512 in flight. */
  fill(from: number, to: number): Promise<void>;
  /** Close its client. */
  close(): Promise<void>;
}

/** Totals of one setup over its rounds. */
interface Tally {
  bytes: number;
  seconds: number;
  client: number;
  redis: number;
}

/**
 * The Redis setups side by side: ROUNDS rounds, each storing COUNT / ROUNDS sessions per setup, the order rotated
 * every round, so that a change in the machine's load (it is shared) falls on every setup alike. Each setup writes to
 * its own logical database; the wall time, this process's CPU and the Redis server's (`INFO cpu`: the server is shared,
 * so it also counts whatever else it ran meanwhile) are summed over the rounds. Bytes: see bytesOfDatabase.
 */
async function fillInterleaved(setups: RedisSetup[], cpuInfo: () => Promise<string>): Promise<Tally[]> {
  const redisCpu = async (): Promise<number> => {
    const text = await cpuInfo();
    return Number(/used_cpu_user:([\d.]+)/.exec(text)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(text)![1]);
  };
  const tallies = setups.map(() => ({ bytes: 0, seconds: 0, client: 0, redis: 0 }));
  for (let round = 0; round < ROUNDS; round += 1) {
    const [from, to] = [Math.floor((COUNT * round) / ROUNDS), Math.floor((COUNT * (round + 1)) / ROUNDS)];
    for (let i = 0; i < setups.length; i += 1) {
      const which = (i + round) % setups.length;
      const [redisBefore, clientBefore, started] = [await redisCpu(), process.cpuUsage(), performance.now()];
      await setups[which]!.fill(from, to);
      const tally = tallies[which]!;
      tally.seconds += (performance.now() - started) / 1000;
      const client = process.cpuUsage(clientBefore);
      tally.client += client.user + client.system;
      tally.redis += ((await redisCpu()) - redisBefore) * 1e6;
    }
    console.log(`  redis round ${round + 1}/${ROUNDS}: ${setups.map((setup, i) => `${setup.label} ${tallies[i]!.seconds.toFixed(1)} s`).join(", ")}`);
  }
  return tallies;
}

/**
 * A setup's bytes: `used_memory` before and after `FLUSHDB SYNC` of its database, once the figure has settled (an
 * incremental rehash of a key table frees the old table seconds later, possibly while another setup runs, so a delta
 * per round credited it to the wrong setup, and a flush during the rehash frees both tables). The flush frees exactly the database's keys and key tables; it runs
 * only after sampled keys show the database holds this setup's keys.
 */
async function bytesOfDatabase(setup: RedisSetup, info: () => Promise<string>): Promise<number> {
  const { createClient } = await import("redis");
  const client = createClient({ url: REDIS_URL, database: setup.database });
  await client.connect();
  try {
    for (let i = 0; i < 20; i += 1) {
      const key = (await client.sendCommand(["RANDOMKEY"])) as string | null;
      if (key !== null && !key.startsWith(setup.prefix)) throw new Error(`database ${setup.database} holds ${key}, not only ${setup.prefix}*`);
    }
    // Redis rehashes in its cron, 1 ms per 100 ms: a table of 2^20 slots takes seconds, and used_memory holds still
    // meanwhile (the old table is freed at the end), so wait past that before watching it settle.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    let before = await usedMemory(info);
    for (let tries = 0; tries < 30; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = await usedMemory(info);
      const settled = Math.abs(now - before) < 256 * 1024;
      before = now;
      if (settled) break;
    }
    await client.sendCommand(["FLUSHDB", "SYNC"]);
    return (before - (await usedMemory(info))) / COUNT;
  } finally {
    await client.quit();
  }
}

async function measureRedis(): Promise<Measured[]> {
  if (!(await isPortOpen(6379))) return [{ store: "Redis", where: "Redis used_memory", bytes: null, seconds: 0, note: "skipped: Redis not reachable" }];
  const { createClient } = await import("redis");
  const admin = createClient({ url: REDIS_URL });
  await admin.connect();
  const info = (): Promise<string> => admin.info("memory");
  const cpuInfo = (): Promise<string> => admin.info("cpu");
  const now = Date.now();
  const setups: RedisSetup[] = [];
  const skipped: Measured[] = [];

  // cloakroom RedisStore, through its API: logged-in sessions (one user each, so each has an index member) and
  // anonymous ones (no index member), over ioredis and over node-redis (the client connect-redis uses).
  const loggedIn = { record: (i: number) => minimalRecord(`user-${i}`, now), note: "record + per-user index member (one user per session)" };
  const anonymous = { record: () => anonymousRecord(now), note: "record only (`{ cart: [] }`, no user)" };
  const kinds = [
    { label: "cloakroom RedisStore, logged in", library: "ioredis", ...loggedIn },
    { label: "cloakroom RedisStore, anonymous", library: "ioredis", ...anonymous },
    { label: "cloakroom RedisStore over node-redis, logged in", library: "node-redis", ...loggedIn },
    { label: "cloakroom RedisStore over node-redis, anonymous", library: "node-redis", ...anonymous },
  ];
  const openClient = async (library: string, db: number): Promise<{ quit(): Promise<unknown> }> => {
    if (library === "node-redis") return createClient({ url: REDIS_URL, database: db }).connect();
    const { Redis } = await import("ioredis");
    return new Redis(6379, "127.0.0.1", { maxRetriesPerRequest: 1, db });
  };
  for (const [k, kind] of kinds.entries()) {
    try {
      const { RedisStore } = (await import("cloakroom/redis")) as unknown as { RedisStore: new (o: object) => RedisStoreLike };
      const client = await openClient(kind.library, DATABASES[k]!);
      const store = new RedisStore({ client, prefix: `${MEMORY_PREFIX}memory:` });
      await store.clear();
      setups.push({
        label: kind.label,
        note: kind.note,
        database: DATABASES[k]!,
        prefix: `${MEMORY_PREFIX}memory:`,
        // One randomBytes call per key, as connect-redis's row pays (randomStoreKey): the time is the store's.
        fill: (from, to) => forEachConcurrent(to - from, 512, (i) => store.create(randomStoreKey(), kind.record(from + i))),
        close: async () => void (await client.quit()),
      });
    } catch (error) {
      skipped.push({ store: kind.label, where: "Redis used_memory", bytes: null, seconds: 0, note: `skipped: ${firstLine(error)}` });
    }
  }

  // connect-redis, through its API (the way express-session calls it).
  const { RedisStore } = await import("connect-redis");
  const database = DATABASES[kinds.length]!;
  const client = createClient({ url: REDIS_URL, database });
  await client.connect();
  const prefix = `${MEMORY_PREFIX}memory-es:`;
  const store = new RedisStore({ client, prefix });
  setups.push({
    label: "connect-redis",
    database,
    prefix,
    fill: (from, to) => forEachConcurrent(to - from, 512, () => store.set(newSessionId(), minimalExpressSession("user") as never)),
    close: async () => void (await client.quit()),
  });

  const tallies = await fillInterleaved(setups, cpuInfo);
  for (const [i, setup] of setups.entries()) {
    tallies[i]!.bytes = await bytesOfDatabase(setup, info);
    await setup.close();
  }
  await admin.quit();
  return [
    ...setups.map((setup, i): Measured => {
      const { bytes, seconds, client, redis } = tallies[i]!;
      return { store: setup.label, where: "Redis used_memory", bytes, seconds, cpu: { client: client / COUNT, redis: redis / COUNT }, note: setup.note };
    }),
    ...skipped,
  ];
}

/** Issue 13's RedisStore targets: ≤ 256 B anonymous, ≤ 350 B logged in (index included), creation ≤ 1.2× connect-redis. */
function redisTargets(results: Measured[]): string[] {
  const row = (store: string): Measured | undefined => results.find((r) => r.store === store && r.bytes !== null);
  const [loggedIn, anonymous, peer] = [row("cloakroom RedisStore, logged in"), row("cloakroom RedisStore, anonymous"), row("connect-redis")];
  if (!loggedIn || !anonymous || !peer) return ["RedisStore targets: not measured (Redis not reachable)."];
  const verdict = (ok: boolean): string => (ok ? "met" : "**missed**");
  const ratio = loggedIn.seconds / peer.seconds;
  const anonymousRatio = anonymous.seconds / peer.seconds;
  const [nodeLoggedIn, nodeAnonymous] = [row("cloakroom RedisStore over node-redis, logged in"), row("cloakroom RedisStore over node-redis, anonymous")];
  const overNodeRedis =
    nodeLoggedIn && nodeAnonymous
      ? [
          `Over node-redis: creating them ${(nodeLoggedIn.seconds / peer.seconds).toFixed(2)}× connect-redis's time logged in, ` +
            `${(nodeAnonymous.seconds / peer.seconds).toFixed(2)}× anonymous (${Math.round(nodeLoggedIn.bytes!)} B / ${Math.round(nodeAnonymous.bytes!)} B per session).`,
        ]
      : [];
  return [
    `Targets: RedisStore ≤ 256 B per anonymous session — ${verdict(anonymous.bytes! <= 256)} (${Math.round(anonymous.bytes!)} B); ` +
      `≤ 350 B per logged-in session with its index member — ${verdict(loggedIn.bytes! <= 350)} (${Math.round(loggedIn.bytes!)} B); ` +
      `creating them ≤ 1.2× connect-redis's time — ${verdict(ratio <= 1.2)} for logged-in sessions (${ratio.toFixed(2)}×), ` +
      `${verdict(anonymousRatio <= 1.2)} for anonymous ones (${anonymousRatio.toFixed(2)}×).`,
    ...overNodeRedis,
  ];
}

async function main(): Promise<void> {
  const heapArg = process.argv.find((a) => a.startsWith("--heap="));
  if (heapArg) return measureHeap(heapArg.slice("--heap=".length));
  console.log(`memory per session: ${COUNT.toLocaleString("en")} minimal sessions per store`);
  const results: Measured[] = [heapInChild("cloakroom"), heapInChild("express-session")];
  console.log(`  heap: ${results.map((r) => `${r.store} ${r.bytes === null ? r.note : formatBytes(r.bytes)}`).join(", ")}`);
  results.push(...(await measureRedis()));
  const ours = results.find((r) => r.store === "cloakroom MemoryStore")?.bytes ?? null;
  const markdown = [
    `## Memory per session (${COUNT.toLocaleString("en")} sessions holding only \`userId\`)`,
    "",
    markdownTable(
      ["store", "measured as", "bytes per session", "insert time", "client CPU / session", "Redis CPU / session", "note"],
      results.map((r) => [
        r.store,
        r.where,
        r.bytes === null ? "—" : formatBytes(r.bytes),
        r.bytes === null ? "—" : `${r.seconds.toFixed(1)} s`,
        r.cpu ? `${r.cpu.client.toFixed(1)} µs` : "—",
        r.cpu ? `${r.cpu.redis.toFixed(1)} µs` : "—",
        r.note ?? "",
      ]),
    ),
    "",
    `Target: cloakroom MemoryStore ≤ ${TARGET_BYTES} B per minimal session — ${ours === null ? "not measured" : ours <= TARGET_BYTES ? `met (${Math.round(ours)} B)` : `**missed** (${Math.round(ours)} B)`}.`,
    ...redisTargets(results),
    `Redis rows: ${ROUNDS} interleaved rounds of ${Math.floor(COUNT / ROUNDS).toLocaleString("en")} sessions per setup (order rotated each round, each setup in its own database); times and CPU summed over the rounds, so the ratios are of one run; bytes = \`used_memory\` freed by \`FLUSHDB\` of the setup's database afterwards.`,
    "Keys count: cloakroom keys are 43 characters (the length of the SHA-256 hash of a ticket), express-session's are 32-character ids. " +
      "Each Redis row makes its keys with one `randomBytes` call per session (cloakroom's without the ticket's SHA-256, which is the session manager's work, not the store's).",
  ].join("\n");
  console.log(`\n${markdown}`);
  await writeSection("memory", markdown, { count: COUNT, results });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
