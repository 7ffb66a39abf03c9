/**
 * The plumbing every store shares: the error shape, the background sweeper, the sweep's pacing, the prototype-safe
 * data patch.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { applyDataPatch, splitDataPatch } from "./data-patch.js";
import { StoreOperationError, guardStore, guardStoreSync, storeError } from "./store-error.js";
import { SWEEP_SLICE_MS, SweepPacer, nextBatchSize } from "./sweep-slice.js";
import { checkSweepInterval, startSweepTimer } from "./sweep-timer.js";

describe("storeError", () => {
  it("names the store and the operation, quotes the cause's message and keeps the cause", () => {
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:11211");
    const error = storeError("MemcachedStore", "get", cause);
    expect(error).toBeInstanceOf(StoreOperationError);
    expect(error.message).toBe("MemcachedStore.get failed: connect ECONNREFUSED 127.0.0.1:11211");
    expect(error.cause).toBe(cause);
    expect(storeError("RedisStore", "get", "a string").message).toBe("RedisStore.get failed: a string");
  });

  it("does not wrap the same store's error twice", () => {
    const inner = storeError("PostgresStore", "migrate(public.t)", new Error("boom"));
    expect(storeError("PostgresStore", "get", inner)).toBe(inner);
    expect(storeError("CachedStore", "get", inner).cause).toBe(inner);
  });

  it("guardStore and guardStoreSync pass results through and wrap failures", async () => {
    await expect(guardStore("S", "op", async () => 1)).resolves.toBe(1);
    await expect(guardStore("S", "op", () => Promise.reject(new Error("x")))).rejects.toThrow("S.op failed: x");
    expect(guardStoreSync("S", "op", () => 2)).toBe(2);
    expect(() => guardStoreSync("S", "op", () => { throw new Error("y"); })).toThrow("S.op failed: y");
  });
});

describe("startSweepTimer", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("sweeps every interval, skips a tick while a sweep runs, and stop() waits for the running one", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    let release!: () => void;
    let calls = 0;
    const timer = startSweepTimer("S", 1000, () => {
      calls += 1;
      return new Promise<void>((resolve) => (release = resolve));
    });
    vi.advanceTimersByTime(3000);
    expect(calls).toBe(1);
    let stopped = false;
    const stopping = timer.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await stopping;
    vi.advanceTimersByTime(5000);
    expect(calls).toBe(1);
    await timer.stop(); // harmless twice
  });

  it("reports a failed sweep as a process warning in the shared shape, and keeps ticking", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    let calls = 0;
    const timer = startSweepTimer("SqliteStore", 10, async () => {
      calls += 1;
      throw new Error("SQLITE_BUSY");
    });
    vi.advanceTimersByTime(10);
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    expect((warn.mock.calls[0]![0] as Error).message).toBe("SqliteStore.sweep failed: SQLITE_BUSY");
    vi.advanceTimersByTime(10);
    expect(calls).toBe(2);
    await timer.stop();
  });

  it("starts nothing for an interval of 0, and the option check names the store", async () => {
    const sweep = vi.fn(async () => 0);
    await startSweepTimer("S", 0, sweep).stop();
    expect(sweep).not.toHaveBeenCalled();
    expect(() => checkSweepInterval("MemoryStore", -1)).toThrow(/^MemoryStore: the sweepInterval option/);
    expect(() => checkSweepInterval("MemoryStore", 2 ** 31)).toThrow(TypeError);
    expect(() => checkSweepInterval("MemoryStore", undefined)).not.toThrow();
  });
});

describe("the sweep's pacing (by time, not by count)", () => {
  it("a slice is spent once SWEEP_SLICE_MS of the pacer's clock went by, and yield() lets the event loop run first", async () => {
    let clock = 1000;
    const pacer = new SweepPacer(() => clock);
    clock += SWEEP_SLICE_MS - 0.5;
    expect(pacer.spent()).toBe(false);
    clock += 0.5;
    expect(pacer.spent()).toBe(true);
    let ran = false;
    setImmediate(() => (ran = true));
    await pacer.yield();
    expect(ran).toBe(true);
    expect(pacer.spent()).toBe(false); // a new slice starts after the yield
  });

  it("the next batch is halved after one that overran the slice, doubled after one under half of it, within [1, max]", () => {
    expect(nextBatchSize(1000, SWEEP_SLICE_MS * 4, 1000)).toBe(500);
    expect(nextBatchSize(1, SWEEP_SLICE_MS * 100, 1000)).toBe(1);
    expect(nextBatchSize(64, SWEEP_SLICE_MS / 4, 1000)).toBe(128);
    expect(nextBatchSize(800, 0, 1000)).toBe(1000);
    expect(nextBatchSize(300, SWEEP_SLICE_MS * 0.75, 1000)).toBe(300);
    expect(nextBatchSize(300, SWEEP_SLICE_MS * 0.75, 100)).toBe(100); // a smaller sweepBatchSize still bounds it
  });
});

describe("applyDataPatch", () => {
  const hostile = ["__proto__", "constructor", "prototype", "hasOwnProperty"];

  it("sets and reads back __proto__, constructor, prototype and hasOwnProperty as own data", () => {
    const data = applyDataPatch({ keep: 1 }, { set: JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","prototype":"p","hasOwnProperty":"h"}') });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    for (const key of hostile) expect(Object.hasOwn(data, key)).toBe(true);
    expect(Object.getOwnPropertyDescriptor(data, "__proto__")!.value).toEqual({ polluted: true });
    expect(JSON.parse(JSON.stringify(data))).toStrictEqual(data);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    applyDataPatch(data, { unset: hostile });
    expect(data).toStrictEqual({ keep: 1 });
  });

  it("unsets first (a key in both ends up set) and treats a set to undefined as a deletion", () => {
    const data = applyDataPatch({ both: "old", gone: 1, kept: 2 }, { set: { both: "new", gone: undefined }, unset: ["both"] });
    expect(data).toStrictEqual({ both: "new", kept: 2 });
    expect(splitDataPatch({ set: { a: undefined, b: 1 }, unset: ["b", "c"] })).toStrictEqual({ set: { b: 1 }, unset: ["c", "a"] });
  });
});
