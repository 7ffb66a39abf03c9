import { describe, expect, it } from "vitest";
import { BucketExpiries } from "./redis-bucket-expiry.js";
import { CreateBatch } from "./redis-create-batch.js";
import { UserIndex } from "./redis-user-index.js";

const HOUR = 3600;

describe("BucketExpiries", () => {
  it("knows nothing at first, then a bucket's hour and every earlier one, not a later one", () => {
    const expiries = new BucketExpiries();
    expect(expiries.mayExpireBefore(7, 100)).toBe(true);
    expiries.record(7, 100);
    expect(expiries.mayExpireBefore(7, 100)).toBe(false);
    expect(expiries.mayExpireBefore(7, 99)).toBe(false);
    expect(expiries.mayExpireBefore(7, 101)).toBe(true);
    expect(expiries.mayExpireBefore(8, 100)).toBe(true);
  });

  it("never moves a bucket's known hour earlier, and forgets a bucket whose slot another one took", () => {
    const expiries = new BucketExpiries();
    expiries.record(7, 100);
    expiries.record(7, 90);
    expect(expiries.mayExpireBefore(7, 100)).toBe(false);
    expiries.record(7 + (1 << 17), 100);
    expect(expiries.mayExpireBefore(7 + (1 << 17), 100)).toBe(false);
    expect(expiries.mayExpireBefore(7, 100)).toBe(true);
  });

  it("rounds a score up to its hour", () => {
    expect(BucketExpiries.hourOf(100 * HOUR)).toBe(100);
    expect(BucketExpiries.hourOf(100 * HOUR + 1)).toBe(101);
  });
});

describe("UserIndex.queueCreate", () => {
  /** A store's index over a fake CREATE: records each call's flags (ARGV[3]), answers with `outcome()`. */
  function indexWithFakeCreate(outcome: () => Promise<unknown>): { index: UserIndex; batch: CreateBatch; flags: string[] } {
    const flags: string[] = [];
    const run = (): Promise<unknown> => Promise.resolve(1);
    const index = new UserIndex({ commands: {} as never, prefix: "p:", buckets: 16, sharesSlot: true, run });
    const send = (_keys: string[], args: string[]): Promise<unknown> => {
      flags.push(args[2] as string);
      return outcome();
    };
    const batch = new CreateBatch(send, (checked) => index.recordChecked(checked));
    return { index, batch, flags };
  }

  function create(key: string): Parameters<UserIndex["queueCreate"]>[1] {
    return { key, value: "v", expireAt: "1", owner: "user-1", absoluteExpiresAt: 1_000 * HOUR * 1000 };
  }

  it("checks a bucket's expiry once, then not again for members of the same hour", async () => {
    const { index, batch, flags } = indexWithFakeCreate(() => Promise.resolve(1));
    await index.queueCreate(batch, create("a"), 0);
    await index.queueCreate(batch, create("b"), 0);
    // The first addition of a store also prunes (flag bit 2); the second neither prunes nor checks.
    expect(flags).toEqual(["3", "0"]);
  });

  it("records nothing when the CREATE that checked the bucket failed: the next one checks again", async () => {
    let fail = true;
    const { index, batch, flags } = indexWithFakeCreate(() => (fail ? Promise.reject(new Error("down")) : Promise.resolve(1)));
    await expect(index.queueCreate(batch, create("a"), 0)).rejects.toThrow("down");
    fail = false;
    await index.queueCreate(batch, create("b"), 0);
    await index.queueCreate(batch, create("c"), 0);
    expect(flags).toEqual(["3", "1", "0"]);
  });
});

describe("CreateBatch", () => {
  it("sends anonymous sessions first, then the logged-in ones with one flag each, and records checked buckets once", async () => {
    const sent: string[][][] = [];
    const recorded: number[][] = [];
    const batch = new CreateBatch(
      (keys, args) => {
        sent.push([keys, args]);
        return Promise.resolve(1);
      },
      (checked) => recorded.push(checked),
    );
    const logged = (key: string, bucket: number): Parameters<CreateBatch["addIndexed"]>[0] => ({
      sessionKey: `p:s:${key}`,
      value: "v",
      expireAt: "9",
      score: "7",
      member: `t${key}`,
      bucket,
      bucketKey: `p:i:${bucket}`,
    });
    await Promise.all([
      batch.addIndexed(logged("a", 3), "1", "", 5),
      batch.addAnonymous("p:s:b", "w", "8"),
      batch.addIndexed(logged("c", 4), "2", "6", -1),
    ]);
    expect(sent).toEqual([
      [
        ["p:s:b", "p:s:a", "p:i:3", "p:s:c", "p:i:4"],
        ["1", "6", "12", "w", "8", "v", "9", "7", "ta", "v", "9", "7", "tc"],
      ],
    ]);
    expect(recorded).toEqual([[3, 5]]);
  });
});
