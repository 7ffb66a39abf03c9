import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeJson, decodeString, encodeJson, encodeString, ENCODED_MARKER, keyDigest } from "./postgres-codec.js";

/** True when PostgreSQL can take the string as `text`: no U+0000 and UTF-8 encodes it losslessly. */
function storableInPostgres(value: string): boolean {
  return !value.includes("\0") && Buffer.from(value, "utf8").toString("utf8") === value;
}

function everyStringStorable(value: unknown): boolean {
  if (typeof value === "string") return storableInPostgres(value);
  if (Array.isArray(value)) return value.every(everyStringStorable);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).every(([k, v]) => storableInPostgres(k) && everyStringStorable(v));
  }
  return true;
}

// Code units chosen to hit every branch: NUL, both surrogate halves, the marker, backslash and escape look-alikes.
const ALPHABET = ["\0", "\ud800", "\udbff", "\udc00", "\udfff", ENCODED_MARKER, "\\", "0", "u", "a", "é", "\n"];

function randomString(random: () => number): string {
  const length = Math.floor(random() * 12);
  let out = "";
  for (let i = 0; i < length; i += 1) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return out;
}

/** A seeded generator (mulberry32) so a failure is reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("encodeString()", () => {
  it("leaves ordinary strings, paired surrogates included, exactly as they are", () => {
    for (const plain of ["", "plain", "\\0 and \\u0041", "😀", "a\u0001b", "x\uFDD0 not first"]) {
      expect(encodeString(plain)).toBe(plain);
    }
  });

  it("encodes NUL, unpaired surrogates and a leading marker into a storable, marked string", () => {
    for (const hostile of ["\0", "a\0b", "\ud800", "x\udc00", "\udc00\ud800", ENCODED_MARKER, `${ENCODED_MARKER}x`]) {
      const encoded = encodeString(hostile);
      expect(encoded.startsWith(ENCODED_MARKER)).toBe(true);
      expect(storableInPostgres(encoded)).toBe(true);
      expect(decodeString(encoded)).toBe(hostile);
    }
  });

  it("round-trips 5,000 random strings made of the troublesome code units", () => {
    const random = seededRandom(20_240_601);
    for (let i = 0; i < 5000; i += 1) {
      const value = randomString(random);
      const encoded = encodeString(value);
      expect(storableInPostgres(encoded)).toBe(true);
      expect(decodeString(encoded)).toBe(value);
    }
  });
});

describe("encodeJson()", () => {
  it("is plain JSON.stringify when nothing needs encoding", () => {
    const value = { a: 1, b: ["x", { c: null }], "\\u0000": "literal backslash-u" };
    expect(encodeJson(value)).toBe(JSON.stringify(value));
  });

  it("encodes strings and object keys at every depth, and decodeJson() restores them", () => {
    const value = { "k\0": { deep: ["\0", "\ud800", { [ENCODED_MARKER]: "\udfff" }] }, n: 1.5, t: true, z: null };
    const text = encodeJson(value);
    expect(everyStringStorable(JSON.parse(text))).toBe(true);
    expect(decodeJson(text)).toEqual(value);
  });

  it("keeps JSON.stringify semantics for toJSON and undefined", () => {
    const when = new Date(0);
    expect(decodeJson(encodeJson({ when, gone: undefined, s: "\0" }))).toEqual({ when: when.toJSON(), s: "\0" });
  });
});

describe("keyDigest()", () => {
  it("gives different digests to keys a UTF-8 encoder would conflate", () => {
    expect(keyDigest("\ud800").equals(keyDigest("\ufffd"))).toBe(false);
    expect(keyDigest("a\0").equals(keyDigest("a"))).toBe(false);
    expect(keyDigest("x".repeat(10_000))).toHaveLength(32);
  });

  it("is the SHA-256 of the UTF-8 bytes, so rows written by earlier releases are still found", () => {
    // Known vector for "abc" (FIPS 180-2), and a non-ASCII key.
    expect(keyDigest("abc").toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(keyDigest("é-key").equals(createHash("sha256").update(Buffer.from("é-key", "utf8")).digest())).toBe(true);
  });
});
