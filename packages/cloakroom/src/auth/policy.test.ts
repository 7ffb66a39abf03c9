import { describe, expect, it, vi } from "vitest";
import { COMMON_PASSWORDS } from "./common-passwords.js";
import { checkPasswordPolicy } from "./policy.js";

// Distinct, non-sequential characters, so length tests are not tripped by the repetition or sequence rules.
const filler = (n: number): string => Array.from({ length: n }, (_, i) => "kx7Qm2Zp9Lw4Rt8Vn3Hj6"[i % 21]).join("");

/** `count` Greek letters that each decompose to 4 code points and 8 bytes under NFD, in a non-repeating order. */
function greekNfd(count: number): string {
  const letters = ["\u1F84", "\u1F85", "\u1F94", "\u1F95", "\u1FA4", "\u1FA5"];
  return Array.from({ length: count }, (_, i) => letters[Math.floor(i * 1.618034) % 6] ?? "").join("").normalize("NFD");
}

describe("checkPasswordPolicy: length (NIST SP 800-63B-4, ASVS V2.1.1/V2.1.2)", () => {
  it("refuses 14 code points and accepts 15 by default", () => {
    expect(checkPasswordPolicy(filler(14))).toMatchObject({ ok: false, code: "password_too_short" });
    expect(checkPasswordPolicy(filler(15))).toEqual({ ok: true, password: filler(15) });
  });

  it("counts code points, not UTF-16 units: 15 emoji meet the minimum, 14 do not", () => {
    const emoji = "🦊🐶🎉🍕🚀🌈🐙🎸🍩🦄🌵🎯🧊🪁🛸";
    expect(emoji.length).toBe(30);
    expect(checkPasswordPolicy(emoji)).toMatchObject({ ok: true });
    expect(checkPasswordPolicy([...emoji].slice(0, 14).join(""))).toMatchObject({ code: "password_too_short" });
  });

  it("accepts 64 and 128 characters and refuses 129", () => {
    expect(checkPasswordPolicy(filler(64))).toMatchObject({ ok: true });
    expect(checkPasswordPolicy(filler(128))).toMatchObject({ ok: true });
    expect(checkPasswordPolicy(filler(129))).toMatchObject({ ok: false, code: "password_too_long" });
  });

  it("refuses a 1 MB string on its length alone, before normalizing or scanning it", () => {
    const huge = "x".repeat(1024 * 1024);
    const normalize = vi.spyOn(String.prototype, "normalize");
    const byteLength = vi.spyOn(Buffer, "byteLength");
    expect(checkPasswordPolicy(huge)).toMatchObject({ ok: false, code: "password_too_long" });
    expect(normalize).not.toHaveBeenCalled();
    expect(byteLength).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it("by default leaves room for the NFD spelling of 128 code points (1,024 bytes)", () => {
    const nfd = greekNfd(128);
    expect([...nfd].length).toBe(512);
    expect(Buffer.byteLength(nfd)).toBe(1024);
    expect(checkPasswordPolicy(nfd)).toEqual({ ok: true, password: nfd.normalize("NFC") });
  });

  it("applies maxBytes to the raw input, whatever the code point count", () => {
    const options = { maxLength: 64, maxBytes: 300 };
    const base = greekNfd(37); // 296 bytes, 37 code points once composed
    expect(checkPasswordPolicy(`${base}wxyz`, options)).toMatchObject({ ok: true });
    expect(checkPasswordPolicy(`${base}vwxyz`, options)).toMatchObject({ ok: false, code: "password_too_long" });
  });

  it("compares lengths after NFC: an NFD password of 15 letters is 15, not 30, code points", () => {
    const nfd = "éàüöñçøåîêôûëïß".normalize("NFD");
    expect([...nfd].length).toBeGreaterThan(15);
    const result = checkPasswordPolicy(nfd);
    expect(result).toEqual({ ok: true, password: nfd.normalize("NFC") });
  });

  it("honours minLength 8 for multi-factor use and refuses a minLength below NIST's floor", () => {
    expect(checkPasswordPolicy("kx7Qm2Zp", { minLength: 8 })).toMatchObject({ ok: true });
    expect(() => checkPasswordPolicy("x", { minLength: 6 })).toThrow(/minLength option/);
    expect(() => checkPasswordPolicy("x", { maxLength: 32 })).toThrow(/maxLength option/);
    expect(() => checkPasswordPolicy("x", { maxBytes: 100 })).toThrow(/maxBytes option/);
    expect(() => checkPasswordPolicy("x", { blocklist: [] as unknown as Set<string> })).toThrow(/blocklist option/);
  });
});

describe("checkPasswordPolicy: characters (ASVS V2.1.4, no composition rules)", () => {
  it("accepts a passphrase of plain words and spaces (no digit or symbol required)", () => {
    expect(checkPasswordPolicy("purple elephants dance quietly")).toMatchObject({ ok: true });
  });

  it("accepts NUL bytes, zero-width and right-to-left characters", () => {
    expect(checkPasswordPolicy("abc\u0000def\u200bghi\u202ejklmno")).toMatchObject({ ok: true });
  });

  it("refuses lone surrogates, which would collide once encoded as U+FFFD", () => {
    expect(checkPasswordPolicy(`${filler(15)}\uD800`)).toMatchObject({ ok: false, code: "password_invalid" });
    expect(checkPasswordPolicy(`\uDFFF${filler(15)}`)).toMatchObject({ ok: false, code: "password_invalid" });
  });

  it("refuses anything that is not a string", () => {
    for (const value of [undefined, null, 123456789012345, ["a".repeat(15)], { $ne: null }]) {
      expect(checkPasswordPolicy(value)).toMatchObject({ ok: false, code: "password_not_string" });
    }
  });

  it("gives short user-facing messages", () => {
    expect(checkPasswordPolicy("short")).toMatchObject({ message: "Use at least 15 characters." });
    expect(checkPasswordPolicy(filler(129))).toMatchObject({ message: "Use at most 128 characters." });
  });
});

describe("checkPasswordPolicy: blocklist (NIST SHALL, ASVS V2.1.7)", () => {
  it.each(["password1234567", "123456789012345", "qwertyuiopasdfg", "PasswordPassword", "correct horse battery staple"])(
    "refuses %s as common",
    (password) => {
      expect(checkPasswordPolicy(password)).toMatchObject({ ok: false, code: "password_common" });
    },
  );

  it("refuses one character repeated and a short unit repeated", () => {
    expect(checkPasswordPolicy("a".repeat(20))).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("🙂".repeat(16))).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("abcabcabcabcabc")).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("monkeymonkeymonkey")).toMatchObject({ code: "password_common" });
  });

  it("refuses ascending and descending runs", () => {
    expect(checkPasswordPolicy("34567890123456789")).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("zyxwvutsrqponmlk")).toMatchObject({ code: "password_common" });
  });

  it("refuses the account's email and its local part, whatever the case", () => {
    const email = "Alexander.Hamilton1755@example.com";
    expect(checkPasswordPolicy("alexander.hamilton1755@EXAMPLE.com", { email })).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("Alexander.Hamilton1755", { email })).toMatchObject({ code: "password_common" });
    expect(checkPasswordPolicy("Alexander.Hamilton1755")).toMatchObject({ ok: true });
  });

  it("consults an extra blocklist in lower case", () => {
    const blocklist = new Set(["cloakroomcloakroom!"]);
    expect(checkPasswordPolicy("CloakroomCloakroom!", { blocklist })).toMatchObject({ code: "password_common" });
  });

  it("does not refuse a strong password that merely contains a common word", () => {
    expect(checkPasswordPolicy("password is not my horse, 7 times")).toMatchObject({ ok: true });
  });
});

describe("COMMON_PASSWORDS", () => {
  it("holds several hundred lower-case NFC entries, hundreds of them long enough to pass the length rule", () => {
    const entries = [...COMMON_PASSWORDS];
    expect(entries.length).toBeGreaterThanOrEqual(500);
    expect(entries.filter((e) => [...e].length >= 15).length).toBeGreaterThanOrEqual(300);
    for (const entry of entries) expect(entry).toBe(entry.toLowerCase().normalize("NFC"));
  });
});
