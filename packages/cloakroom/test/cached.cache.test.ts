/**
 * What CachedStore adds over the shared store, against the real servers (Redis and PostgreSQL), never a mock: hits
 * without a round trip, invalidation between instances (the latency is measured and printed), the
 * read-versus-invalidation race, channel outages, and the ttl guard. Shared set-up: cached-helpers.ts.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import {
  LATENCY_RUNS,
  RECOVERY_MS,
  aboutKey,
  describeOverPostgres,
  describeOverRedis,
  heard,
  newKey,
  recordAt,
  run,
  summarize,
  waitUntil,
  type Backend,
  type Instance,
  type OpenOptions,
} from "./cached-helpers.js";

function describeCacheBehaviour(backend: Backend): void {
  describe(`CachedStore over ${backend.name} — the cache`, () => {
    let opened: { namespace: string; instance: Instance }[] = [];
    let namespaceCounter = 0;

    /** `count` instances on one fresh namespace (shared data), closed and cleared after the test. */
    async function openInstances(count: number, options: OpenOptions = {}): Promise<Instance[]> {
      namespaceCounter += 1;
      const namespace = `cb${namespaceCounter}_${run}`;
      const instances: Instance[] = [];
      for (let i = 0; i < count; i++) {
        const instance = await backend.open(namespace, options);
        opened.push({ namespace, instance });
        instances.push(instance);
      }
      return instances;
    }

    afterEach(async () => {
      const cleared = new Set<string>();
      const errors: unknown[] = [];
      // Clear each namespace once, through any instance whose shared store is still open.
      for (const { namespace, instance } of opened) {
        if (cleared.has(namespace) || instance.shared.closed) continue;
        cleared.add(namespace);
        await instance.shared.clear().catch((error: unknown) => errors.push(error));
      }
      for (const { instance } of opened) {
        await instance.store.close().catch((error: unknown) => errors.push(error));
        if (!instance.shared.closed) await instance.shared.close().catch((error: unknown) => errors.push(error));
      }
      opened = [];
      if (errors.length > 0) throw new AggregateError(errors, "cleaning up after the test failed");
    });

    it("a second get() is served from memory, without a round trip to the shared store", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const key = newKey();
      const record = recordAt(Date.now());
      await a.store.create(key, record);
      await heard(b, "A's create", aboutKey(key));

      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);
      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);
      // The writer's cache too is filled only by a read (see the next test for why).
      expect(await a.store.get(key)).toStrictEqual(record);
      expect(await a.store.get(key)).toStrictEqual(record);
      expect(a.shared.gets).toBe(1);

      // What a hit hands out is a copy.
      const handedOut = await b.store.get(key);
      (handedOut!.data.cart as string[]).push("injected");
      expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(1);

      // Misses are not cached: a key nobody created is asked for every time.
      const missing = newKey();
      expect(await b.store.get(missing)).toBeNull();
      expect(await b.store.get(missing)).toBeNull();
      expect(b.shared.gets).toBe(3);
    });

    it("writes never fill the cache, so values come back as the shared store renders them (a Date as its JSON)", async () => {
      const [a] = (await openInstances(1)) as [Instance];
      const key = newKey();
      await a.store.create(key, recordAt(Date.now(), { data: { userId: "user-1", at: new Date(0) } }));
      expect((await a.store.get(key))?.data.at).toBe("1970-01-01T00:00:00.000Z");
      expect((await a.store.get(key))?.data.at).toBe("1970-01-01T00:00:00.000Z"); // the cached copy, same rendering
      expect(a.shared.gets).toBe(1);
    });

    it("a patch on A is seen by B's next read once the invalidation arrives, and A reads its own write at once", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const key = newKey();
      await a.store.create(key, recordAt(Date.now()));
      await heard(b, "A's create", aboutKey(key));
      await b.store.get(key);
      expect(await a.store.patch(key, { set: { theme: "dark" } })).toBe(true);
      expect((await a.store.get(key))?.data.theme).toBe("dark");
      await waitUntil(async () => (await b.store.get(key))?.data.theme === "dark", "B sees the patch", 1_000);
      const reads = b.shared.gets;
      expect((await b.store.get(key))?.version).toBe(1);
      expect(b.shared.gets).toBe(reads); // cached again after the read-through
    });

    it(`a destroy on A is seen by B, which had the session cached (${LATENCY_RUNS} runs, latency printed)`, async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const latencies: number[] = [];
      const deliveries: number[] = [];
      for (let i = 0; i < LATENCY_RUNS; i++) {
        const key = newKey();
        const record = recordAt(Date.now(), { data: { userId: "user-1", i } });
        await a.store.create(key, record);
        await heard(b, "A's create", aboutKey(key));
        await b.store.get(key);
        const reads = b.shared.gets;
        expect(await b.store.get(key)).toStrictEqual(record);
        expect(b.shared.gets).toBe(reads); // B really serves it from memory

        await a.store.destroy(key);
        const destroyedAt = performance.now();
        while ((await b.store.get(key)) !== null) {
          if (performance.now() - destroyedAt > 1_000) throw new Error(`run ${i}: B still serves the destroyed session after 1 s`);
          await sleep(1);
        }
        latencies.push(performance.now() - destroyedAt);
        const delivered = b.channel.received.findLastIndex(aboutKey(key));
        deliveries.push(b.channel.receivedAt[delivered]! - destroyedAt);
      }
      const [seen, delivery] = [summarize(latencies), summarize(deliveries)];
      console.log(
        `CachedStore over ${backend.name} (${LATENCY_RUNS} runs): destroy() resolved on A → get() null on B (polled every ` +
          `1 ms): median ${seen.median} ms, p99 ${seen.p99} ms; → message handled by B: median ${delivery.median} ms, ` +
          `p99 ${delivery.p99} ms (negative: B had it before A's caller resumed)`,
      );
      expect(Math.max(...latencies)).toBeLessThan(1_000);
    });

    it("destroyByUser() on A drops every cached session of that user on B, and only those", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const now = Date.now();
      const mine = [newKey(), newKey(), newKey()];
      const others = new Map([
        [newKey(), recordAt(now, { userId: "user-2" })],
        [newKey(), recordAt(now, { userId: null })],
      ]);
      for (const key of mine) await a.store.create(key, recordAt(now));
      for (const [key, record] of others) await a.store.create(key, record);
      for (const key of [...mine, ...others.keys()]) await heard(b, "A's create", aboutKey(key));
      for (const key of [...mine, ...others.keys()]) await b.store.get(key);
      const readsBefore = b.shared.gets;
      for (const key of mine) expect(await b.store.get(key)).not.toBeNull();
      expect(b.shared.gets).toBe(readsBefore);

      expect(await a.store.destroyByUser("user-1")).toBe(3);
      await waitUntil(
        async () => (await Promise.all(mine.map((key) => b.store.get(key)))).every((record) => record === null),
        "B sees every session of user-1 revoked",
        1_000,
      );
      const reads = b.shared.gets;
      for (const [key, record] of others) expect(await b.store.get(key)).toStrictEqual(record);
      expect(b.shared.gets).toBe(reads); // the other users' sessions stayed cached
    });

    describe("a read that began before an invalidation does not fill the cache with what it read", () => {
      it.each([
        ["destroy() of the key", (a: Instance, key: string) => a.store.destroy(key), "key"],
        ["destroyByUser() of its user", (a: Instance) => a.store.destroyByUser("user-1").then(() => {}), "user"],
      ] as const)("when the invalidation is a %s", async (_case, revoke, type) => {
        const [a, b] = (await openInstances(2)) as [Instance, Instance];
        const key = newKey();
        const record = recordAt(Date.now());
        await a.store.create(key, record);
        await heard(b, "A's create", aboutKey(key));

        // B reads the live record, then its answer is held while A revokes and B receives the invalidation.
        let release: (() => void) | undefined;
        b.shared.afterRead = () => new Promise<void>((resolve) => (release = resolve));
        const inFlight = b.store.get(key);
        await waitUntil(() => release !== undefined, "B's read reached the shared store");
        b.shared.afterRead = undefined;
        const from = b.channel.received.length;
        await revoke(a, key);
        await heard(b, "A's revocation", (m) => m.type === type, from);
        release!();

        // The read began before the revocation, so returning the old value is linearizable; caching it would not be.
        expect(await inFlight).toStrictEqual(record);
        const reads = b.shared.gets;
        expect(await b.store.get(key)).toBeNull();
        expect(b.shared.gets).toBe(reads + 1);
      });
    });

    it("while B's channel is down B bypasses its cache, so a destroy made meanwhile is seen; once back, B caches again", async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const now = Date.now();
      const [gone, kept] = [newKey(), newKey()];
      const keptRecord = recordAt(now, { data: { userId: "user-1", kept: true } });
      await a.store.create(gone, recordAt(now));
      await a.store.create(kept, keptRecord);
      for (const key of [gone, kept]) await heard(b, "A's create", aboutKey(key));
      await b.store.get(gone);
      await b.store.get(kept);
      expect(b.store.size).toBe(2);

      await b.cutChannel();
      const detectionMs = await waitUntil(() => !b.store.caching, "B notices that its channel is down", 2_000);
      expect(b.store.size).toBe(0); // flushed: entries may miss the messages sent during the outage

      await a.store.destroy(gone); // published while B is not subscribed: B never receives it
      expect(await b.store.get(gone)).toBeNull();
      const reads = b.shared.gets;
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(b.shared.gets).toBe(reads + 2); // every get reads through
      expect(b.store.caching).toBe(false); // the outage lasted through the checks above

      const recoveryMs = await waitUntil(() => b.store.caching, "B's channel is subscribed again", 10_000);
      const readsAfter = b.shared.gets;
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(await b.store.get(kept)).toStrictEqual(keptRecord);
      expect(b.shared.gets).toBe(readsAfter + 1);
      // Invalidations reach B again (well within the 5 s ttl, so the ttl cannot be what makes this pass).
      await a.store.destroy(kept);
      await waitUntil(async () => (await b.store.get(kept)) === null, "B sees a destroy made after the recovery", 1_000);
      console.log(
        `CachedStore over ${backend.name}: channel cut noticed after ${detectionMs.toFixed(1)} ms; ` +
          `subscribed again ${recoveryMs.toFixed(0)} ms later (reconnect delay ${RECOVERY_MS} ms)`,
      );
    });

    it("with an invalidation lost on a connected channel, B serves the stale entry for ttl ms and not one more (fake clock)", async () => {
      let clock = Date.now();
      const now = (): number => clock;
      const [a, b] = (await openInstances(2, { now, ttl: 200 })) as [Instance, Instance];
      a.channel.losePublishes = true;
      const key = newKey();
      const record = recordAt(clock);
      await a.store.create(key, record);
      await b.store.get(key);

      await a.store.destroy(key);
      await sleep(50); // ample time for a message to arrive, had one been sent
      expect(b.channel.received).toEqual([]);
      clock += 199;
      expect(await b.store.get(key)).toStrictEqual(record);
      clock += 1;
      expect(await b.store.get(key)).toBeNull();
    });

    it("peek(key, now) takes the caller's reading of Date.now for the ttl only when the cache's clock is Date.now", async () => {
      const [onDateNow] = (await openInstances(1, { ttl: 60_000 })) as [Instance];
      const key = newKey();
      await onDateNow.store.create(key, recordAt(Date.now()));
      await onDateNow.store.get(key);
      expect(onDateNow.store.peek(key, Date.now())).toStrictEqual(await onDateNow.shared.get(key));
      expect(onDateNow.store.peek(key, Date.now() + 60_001)).toBeUndefined(); // the reading is used: past the ttl
      let clock = Date.now();
      const [ownClock] = (await openInstances(1, { ttl: 60_000, now: () => clock })) as [Instance];
      const other = newKey();
      await ownClock.store.create(other, recordAt(clock));
      await ownClock.store.get(other);
      expect(ownClock.store.peek(other, clock + 60_001)).not.toBeUndefined(); // another clock: the reading is ignored
      clock += 60_001;
      expect(ownClock.store.peek(other)).toBeUndefined();
    });

    it("with an invalidation lost on a connected channel, staleness ends at ttl in real time", async () => {
      const ttl = 200;
      const [a, b] = (await openInstances(2, { ttl })) as [Instance, Instance];
      a.channel.losePublishes = true;
      const key = newKey();
      await a.store.create(key, recordAt(Date.now()));
      const filledAt = performance.now();
      await b.store.get(key);
      await a.store.destroy(key);
      expect(await b.store.get(key)).not.toBeNull();
      await waitUntil(async () => (await b.store.get(key)) === null, "B stops serving the stale entry", ttl + 500);
      const staleFor = performance.now() - filledAt;
      console.log(`CachedStore over ${backend.name}: lost invalidation, stale entry served for ${staleFor.toFixed(0)} ms (ttl ${ttl} ms)`);
      expect(staleFor).toBeGreaterThanOrEqual(ttl - 2); // Date.now() (the entry's clock) ticks in whole ms
      expect(staleFor).toBeLessThan(ttl + 300);
    });

    it(`a 10 kB key is invalidated on the other instance (as a "${backend.longKeyMessage}" message)`, async () => {
      const [a, b] = (await openInstances(2)) as [Instance, Instance];
      const longKey = `k${"🔑".repeat(2_560)}`; // 10 kB of UTF-8
      await a.store.create(longKey, recordAt(Date.now()));
      await heard(b, "A's create", (m) => m.type === backend.longKeyMessage);
      await b.store.get(longKey);
      const reads = b.shared.gets;
      expect(await b.store.get(longKey)).not.toBeNull();
      expect(b.shared.gets).toBe(reads); // cached, so only the invalidation can make it go
      await a.store.destroy(longKey);
      await waitUntil(async () => (await b.store.get(longKey)) === null, "B sees the long key destroyed", 1_000);
      expect(b.channel.received.map((m) => m.type)).toEqual([backend.longKeyMessage, backend.longKeyMessage]);
    });

    it("close() closes the channel and leaves the shared store open unless closeStore is set", async () => {
      const [instance] = (await openInstances(1, { closeStore: false })) as [Instance];
      const key = newKey();
      await instance.store.create(key, recordAt(Date.now()));
      await instance.store.close();
      expect(instance.store.caching).toBe(false);
      expect(instance.shared.closed).toBe(false);
      expect(await instance.shared.get(key)).not.toBeNull();
      await expect(instance.channel.publish({ type: "all", origin: "test" })).rejects.toThrow(/after close/);
      await instance.store.close(); // idempotent

      const [owning] = (await openInstances(1, { closeStore: true })) as [Instance];
      await owning.store.close();
      expect(owning.shared.closed).toBe(true);
    });
  });
}

describeOverRedis((backend) => describeCacheBehaviour(backend));
describeOverPostgres((backend) => describeCacheBehaviour(backend));
