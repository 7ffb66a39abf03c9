import { describe, expect, it } from "vitest";
import { normalizeEmail } from "./email.js";

describe("normalizeEmail", () => {
  it.each([
    ["  Alice@Example.COM ", "alice@example.com"],
    ["alice＠example.com", "alice@example.com"],
    ["ＡＬＩＣＥ@ＥＸＡＭＰＬＥ.ｃｏｍ", "alice@example.com"],
    ["\u3000alice@example.com\t", "alice@example.com"],
    ["alice+news@example.com", "alice+news@example.com"],
    ["first.last@example.com", "first.last@example.com"],
    ["Bob@Bücher.Example", "bob@xn--bcher-kva.example"],
    ["bob@xn--bcher-kva.example", "bob@xn--bcher-kva.example"],
    ["josé@example.com", "josé@example.com"],
    ["root@localhost", "root@localhost"],
  ])("normalizes %j to %j", (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it("gives one key for the ways one address can be typed", () => {
    const forms = ["alice@example.com", "ALICE@EXAMPLE.COM", " Alice@Example.Com", "alice＠example.com"];
    expect(new Set(forms.map(normalizeEmail))).toEqual(new Set(["alice@example.com"]));
  });

  it("keeps plus-addressed mailboxes distinct", () => {
    expect(normalizeEmail("alice+a@example.com")).not.toBe(normalizeEmail("alice@example.com"));
  });

  it.each([
    ["no @", "alice.example.com"],
    ["two @", "alice@bob@example.com"],
    ["empty local part", "@example.com"],
    ["empty domain", "alice@"],
    ["trailing dot", "alice@example.com."],
    ["empty label", "alice@example..com"],
    ["leading dot", "alice@.example.com"],
    ["NUL", "alice\u0000@example.com"],
    ["NUL in the domain", "alice@exam\u0000ple.com"],
    ["space inside", "ali ce@example.com"],
    ["newline inside", "alice@example.com\r\nBcc: x@evil.com"],
    ["zero-width space", "ali\u200bce@example.com"],
    ["bidi override", "alice@\u202eexample.com"],
    ["lone surrogate", "alice\uD800@example.com"],
    ["percent-encoding in the domain", "alice@ex%41mple.com"],
    ["slash in the domain", "alice@evil.com/x.example.com"],
    ["port", "alice@example.com:25"],
    ["IP literal", "alice@[192.0.2.1]"],
    ["bare IP address", "alice@192.0.2.1"],
    ["local part over 64 bytes", `${"a".repeat(65)}@example.com`],
    ["address over 254 bytes", `alice@${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`],
    ["a megabyte", `${"a".repeat(1024 * 1024)}@example.com`],
  ])("refuses %s", (_, input) => {
    expect(normalizeEmail(input)).toBeNull();
  });

  it.each([undefined, null, 42, ["alice@example.com"], { email: "alice@example.com" }])("refuses the non-string %j", (input) => {
    expect(normalizeEmail(input)).toBeNull();
  });

  it("accepts exactly 64 bytes of local part and 254 bytes in all", () => {
    const local = "a".repeat(64);
    expect(normalizeEmail(`${local}@example.com`)).toBe(`${local}@example.com`);
    const domain = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(60)}`;
    expect(`x@${domain}`).toHaveLength(254);
    expect(normalizeEmail(`x@${domain}`)).toBe(`x@${domain}`);
    expect(normalizeEmail(`xy@${domain}`)).toBeNull();
  });
});
