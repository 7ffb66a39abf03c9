import argon2 from "argon2";
import bcrypt from "bcryptjs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { dummyVerify, hashPassword, needsRehash, verifyPassword } from "./passwords.js";

// Each argon2 hash at the OWASP costs takes ~50 ms of a shared core: hashes are made once and reused where possible.
const NFC = "Crème brûlée à la française".normalize("NFC");
const NFD = NFC.normalize("NFD");

describe("hashPassword", () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword(NFD);
  });

  it("produces an argon2id PHC string at the OWASP minimum costs (m=19456, t=2, p=1)", () => {
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  });

  it("reads hashes written by the argon2 package directly (parameters in m,p,t order)", async () => {
    const direct = await argon2.hash(NFC, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(direct).toMatch(/\$m=19456,p=1,t=2\$/);
    expect(await verifyPassword(direct, NFD)).toBe(true);
    expect(needsRehash(direct)).toBe(false);
  });

  it("salts: two hashes of one password differ, and both verify", async () => {
    const other = await hashPassword(NFD);
    expect(other).not.toBe(hash);
    expect(await verifyPassword(other, NFC)).toBe(true);
  });

  it("normalizes to NFC: a password set in NFD verifies when typed in NFC (and vice versa)", async () => {
    expect(NFC).not.toBe(NFD);
    expect(await verifyPassword(hash, NFC)).toBe(true);
    expect(await verifyPassword(hash, NFD)).toBe(true);
  });

  it("rejects a wrong password, including a case change (no case-folding)", async () => {
    expect(await verifyPassword(hash, NFC.toUpperCase())).toBe(false);
  });

  it("hashes NUL bytes in full instead of stopping at them", async () => {
    const nul = await hashPassword("first half\u0000second half");
    expect(await verifyPassword(nul, "first half\u0000second half")).toBe(true);
    expect(await verifyPassword(nul, "first half")).toBe(false);
    expect(await verifyPassword(nul, "first half\u0000other")).toBe(false);
  });

  it("accepts emoji and space passphrases", async () => {
    const phrase = "🦊 jumps over 🐶 twice 🎉🎉";
    expect(await verifyPassword(await hashPassword(phrase), phrase)).toBe(true);
  });

  it("runs off the event loop: a timer fires while a hash is being computed", async () => {
    const order: string[] = [];
    const timer = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push("timer")), 0));
    await Promise.all([hashPassword("a password long enough").then(() => order.push("hash")), timer]);
    expect(order).toEqual(["timer", "hash"]);
  });

  it("accepts an OWASP-equivalent cost set (12 MiB, t=3) and writes it into the hash", async () => {
    const equivalent = await hashPassword("another password", { memoryCost: 12288, timeCost: 3 });
    expect(equivalent).toMatch(/^\$argon2id\$v=19\$m=12288,t=3,p=1\$/);
  });

  it("refuses costs below the OWASP minimum, naming the option", async () => {
    await expect(hashPassword("x", { memoryCost: 1024 })).rejects.toThrow(/memoryCost option/);
    await expect(hashPassword("x", { memoryCost: 19456, timeCost: 1 })).rejects.toThrow(/memoryCost option/);
    await expect(hashPassword("x", { parallelism: 0 })).rejects.toThrow(/parallelism option/);
    await expect(hashPassword("x", { timeCost: 2.5 })).rejects.toThrow(TypeError);
  });

  it("refuses a lone surrogate, a non-string and a megabyte before hashing", async () => {
    const spy = vi.spyOn(argon2, "hash");
    await expect(hashPassword("abc\uD800def")).rejects.toThrow(/lone surrogate/);
    await expect(hashPassword(42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(hashPassword("x".repeat(1024 * 1024))).rejects.toThrow(/at most 4096/);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});

describe("verifyPassword", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers false without hashing for a megabyte, a lone surrogate or a non-string", async () => {
    const hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const spy = vi.spyOn(argon2, "verify");
    expect(await verifyPassword(hash, "x".repeat(1024 * 1024))).toBe(false);
    expect(await verifyPassword(hash, "pass\uDC00word")).toBe(false);
    expect(await verifyPassword(hash, { $ne: null } as unknown as string)).toBe(false);
    expect(await verifyPassword(null as unknown as string, "password")).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });

  it("answers false (does not throw) for hashes in formats it does not know", async () => {
    for (const hash of ["", "password", "$1$abc$def", "$argon2id$garbage", "$2b$10$short", "5f4dcc3b5aa765d61d8327deb882cf99"]) {
      expect(await verifyPassword(hash, "password")).toBe(false);
    }
  });
});

describe("verifyPassword with legacy bcrypt hashes", () => {
  it("verifies a real bcrypt hash (cost 10, $2b$) and reports it needs a rehash", async () => {
    const hash = await bcrypt.hash("seed-app password", 10);
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(await verifyPassword(hash, "seed-app password")).toBe(true);
    expect(await verifyPassword(hash, "seed-app passworD")).toBe(false);
    expect(needsRehash(hash)).toBe(true);
  });

  it("accepts the $2a$ and $2y$ spellings of the same algorithm", async () => {
    const hash = await bcrypt.hash("prefix variants", 4);
    expect(await verifyPassword(hash.replace(/^\$2b\$/, "$2a$"), "prefix variants")).toBe(true);
    expect(await verifyPassword(hash.replace(/^\$2b\$/, "$2y$"), "prefix variants")).toBe(true);
  });

  it("never truncates: a 100-character password does not match a hash of its first 72 bytes", async () => {
    const long = "a1b2c3d4e5".repeat(10);
    const first72 = long.slice(0, 72);
    const hash = await bcrypt.hash(first72, 4);
    expect(await verifyPassword(hash, first72)).toBe(true);
    expect(await verifyPassword(hash, long)).toBe(false);
    // bcryptjs itself would say yes: the guard is ours.
    expect(await bcrypt.compare(long, hash)).toBe(true);
  });

  it("counts the 72-byte limit in UTF-8 bytes, not characters", async () => {
    const fits = "é".repeat(36); // 72 bytes
    const over = "é".repeat(37); // 74 bytes; bcrypt would read only the first 72
    expect(await verifyPassword(await bcrypt.hash(fits, 4), fits)).toBe(true);
    expect(await verifyPassword(await bcrypt.hash(over, 4), over)).toBe(false);
  });

  it("does not stop at a NUL byte", async () => {
    const hash = await bcrypt.hash("abc", 4);
    expect(await verifyPassword(hash, "abc\u0000anything")).toBe(false);
  });

  it("also tries the raw form, for hashes made before passwords were NFC-normalized", async () => {
    const hash = await bcrypt.hash(NFD, 4);
    expect(await verifyPassword(hash, NFD)).toBe(true);
  });
});

describe("needsRehash", () => {
  it("is false for a hash at the current costs and true once the costs change", async () => {
    const hash = await hashPassword("rehash me please", { memoryCost: 12288, timeCost: 3 });
    expect(needsRehash(hash, { memoryCost: 12288, timeCost: 3 })).toBe(false);
    expect(needsRehash(hash)).toBe(true);
  });

  it("is true for argon2i/argon2d hashes and an older argon2 version", () => {
    const tail = "m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    expect(needsRehash(`$argon2id$v=19$${tail}`)).toBe(false);
    expect(needsRehash(`$argon2i$v=19$${tail}`)).toBe(true);
    expect(needsRehash(`$argon2d$v=19$${tail}`)).toBe(true);
    expect(needsRehash(`$argon2id$v=16$${tail}`)).toBe(true);
  });

  it("is false for formats it cannot produce (nothing to migrate to) and for non-strings", () => {
    expect(needsRehash("plain text")).toBe(false);
    expect(needsRehash(undefined as unknown as string)).toBe(false);
  });
});

describe("dummyVerify", () => {
  afterEach(() => vi.restoreAllMocks());

  it("always answers false, doing one argon2id verification at the current costs", async () => {
    const verify = vi.spyOn(argon2, "verify");
    expect(await dummyVerify("whatever the attacker sends")).toBe(false);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]?.[0]).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("computes the dummy hash once and reuses it", async () => {
    await dummyVerify("warm-up");
    const hash = vi.spyOn(argon2, "hash");
    const verify = vi.spyOn(argon2, "verify");
    await Promise.all([dummyVerify("one"), dummyVerify("two")]);
    expect(hash).not.toHaveBeenCalled();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it("matches no password, not even the empty one", async () => {
    expect(await dummyVerify("")).toBe(false);
  });
});
