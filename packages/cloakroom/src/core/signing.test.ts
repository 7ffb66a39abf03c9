import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createSigner } from "./signing.js";

const require = createRequire(import.meta.url);
// express-session's own signer (a dependency of express-session), to prove the format is byte-identical.
const cookieSignature = require("cookie-signature") as { sign(value: string, secret: string): string };

const SECRET = "a-secret-of-at-least-thirty-two-characters";
const OLD = "an-older-secret-of-at-least-thirty-two-chars";
const ticket = "k3N8vVhAcyS2ty7QDJ0lR9mSjt1R1nq7YBEaS2Kq5gA";

describe("createSigner()", () => {
  const signer = createSigner([SECRET]);

  it("signs in express-session's format", () => {
    expect(signer.sign(ticket)).toBe(`s:${cookieSignature.sign(ticket, SECRET)}`);
    expect(signer.sign(ticket)).toMatch(/^s:[A-Za-z0-9_-]{43}\.[A-Za-z0-9+/]{43}$/);
  });

  it("verifies what express-session signed (a 32-character uid-safe id)", () => {
    const sid = "Xh2bIYFmXW7Qv0uTRGgLZAHdlEr9GFkT";
    expect(signer.unsign(`s:${cookieSignature.sign(sid, SECRET)}`)).toEqual({ ticket: sid, needsResign: false });
  });

  describe("when the value is tampered with", () => {
    const good = signer.sign(ticket);
    const flipped = good.slice(0, -1) + (good.endsWith("A") ? "B" : "A");
    const cases: [string, string][] = [
      ["one flipped character in the MAC", flipped],
      ["one flipped character in the ticket", `s:${ticket.replace(/^./, ticket[0] === "a" ? "b" : "a")}${good.slice(2 + ticket.length)}`],
      ["the s: prefix missing", good.slice(2)],
      ["an empty signature", `s:${ticket}.`],
      ["no dot", `s:${ticket}`],
      ["only the prefix", "s:"],
      ["junk characters in the MAC", `${good.slice(0, -2)}!!`],
      ["a 10 kB value", `s:${"a".repeat(10_000)}.${good.split(".")[1]}`],
      ["an empty string", ""],
    ];
    it.each(cases)("%s → null", (_, value) => {
      expect(signer.unsign(value)).toBeNull();
    });
  });

  describe("when the secret rotated", () => {
    it("a value signed by the old secret verifies while the old secret is listed, and asks to be re-signed", () => {
      const old = createSigner([OLD]).sign(ticket);
      expect(createSigner([SECRET, OLD]).unsign(old)).toEqual({ ticket, needsResign: true });
    });
    it("is refused once the old secret is retired", () => {
      const old = createSigner([OLD]).sign(ticket);
      expect(createSigner([SECRET]).unsign(old)).toBeNull();
    });
    it("signs with the first secret only", () => {
      expect(createSigner([SECRET, OLD]).sign(ticket)).toBe(createSigner([SECRET]).sign(ticket));
    });
  });

  it("refuses an empty secret list or an empty secret", () => {
    expect(() => createSigner([])).toThrow(TypeError);
    expect(() => createSigner([""])).toThrow(/secret option/);
  });
});
