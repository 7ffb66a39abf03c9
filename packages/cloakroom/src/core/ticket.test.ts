import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateTicket, logLabelOf, storeKeyOf } from "./ticket.js";

describe("generateTicket()", () => {
  it("makes 10,000 distinct 256-bit tickets with no common prefix", () => {
    const tickets = Array.from({ length: 10_000 }, () => generateTicket());
    expect(new Set(tickets).size).toBe(10_000);
    for (const t of tickets.slice(0, 100)) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, "base64url")).toHaveLength(32);
    }
    const prefixes = new Set(tickets.map((t) => t.slice(0, 3)));
    expect(prefixes.size).toBeGreaterThan(5000);
  });

  it("has balanced bits (monobit frequency test over 10,000 tickets)", () => {
    let ones = 0;
    let total = 0;
    for (let i = 0; i < 10_000; i++) {
      for (const byte of Buffer.from(generateTicket(), "base64url")) {
        let b = byte;
        while (b) {
          ones += b & 1;
          b >>= 1;
        }
        total += 8;
      }
    }
    // 2.56 M bits: the standard deviation of the ones-fraction is ~0.0003; 0.005 is > 15 sigma.
    expect(Math.abs(ones / total - 0.5)).toBeLessThan(0.005);
  });

  it("draws from the injected random source", () => {
    const ticket = generateTicket((size) => Buffer.alloc(size, 7));
    expect(ticket).toBe(Buffer.alloc(32, 7).toString("base64url"));
  });

  it("no core file uses Math.random or UUIDs for secrets", () => {
    const dir = fileURLToPath(new URL(".", import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
      const source = readFileSync(`${dir}/${file}`, "utf8");
      expect(source, file).not.toMatch(/Math\.random\(|randomUUID\(/);
    }
  });
});

describe("storeKeyOf()", () => {
  it("is SHA-256 of the ticket in base64url, and never the ticket itself", () => {
    const ticket = generateTicket();
    const key = storeKeyOf(ticket);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(ticket);
    expect(storeKeyOf(ticket)).toBe(key);
    expect(storeKeyOf(generateTicket())).not.toBe(key);
  });

  it("logLabelOf() gives a short label that is not a prefix of the key", () => {
    const key = storeKeyOf(generateTicket());
    const label = logLabelOf(key);
    expect(label).toHaveLength(12);
    expect(key.startsWith(label)).toBe(false);
  });
});
