import { describe, expect, it } from "vitest";
import { formatArgon2, parseArgon2 } from "./phc.js";

const SALT = "c29tZXNhbHRzb21lc2FsdA";
const DIGEST = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

describe("parseArgon2", () => {
  it("reads the parameters in any order and writes them back as m,t,p", () => {
    const phc = parseArgon2(`$argon2id$v=19$m=19456,p=1,t=2$${SALT}$${DIGEST}`);
    expect(phc).toEqual({ id: "argon2id", version: 19, m: 19456, t: 2, p: 1, salt: SALT, digest: DIGEST });
    expect(formatArgon2(phc!)).toBe(`$argon2id$v=19$m=19456,t=2,p=1$${SALT}$${DIGEST}`);
  });

  it("treats a missing version as Argon2 1.0 (16)", () => {
    expect(parseArgon2(`$argon2i$m=4096,t=3,p=1$${SALT}$${DIGEST}`)?.version).toBe(16);
  });

  it.each([
    ["a missing parameter", `$argon2id$v=19$m=19456,t=2$${SALT}$${DIGEST}`],
    ["a repeated parameter", `$argon2id$v=19$m=19456,m=1,t=2$${SALT}$${DIGEST}`],
    ["an extra parameter", `$argon2id$v=19$m=19456,t=2,p=1,x=5$${SALT}$${DIGEST}`],
    ["another algorithm", `$scrypt$ln=17,r=8,p=1$${SALT}$${DIGEST}`],
    ["a missing digest", `$argon2id$v=19$m=19456,t=2,p=1$${SALT}`],
  ])("refuses %s", (_, hash) => {
    expect(parseArgon2(hash)).toBeNull();
  });
});
