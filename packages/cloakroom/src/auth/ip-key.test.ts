import { describe, expect, it } from "vitest";
import { ipRateLimitKey } from "./ip-key.js";

describe("ipRateLimitKey", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(ipRateLimitKey("192.0.2.1")).toBe("192.0.2.1");
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", () => {
    expect(ipRateLimitKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(ipRateLimitKey("::FFFF:c000:0201")).toBe("192.0.2.1");
  });

  it("puts every address of one IPv6 /64 in one bucket, however it is written", () => {
    const keys = new Set(
      ["2001:db8:0:1::1", "2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:0DB8:0000:0001:0:0:0:2", "2001:db8::1:1234:5678:9abc:def0", "fe80::1%eth0"].map(ipRateLimitKey),
    );
    expect(keys).toEqual(new Set(["2001:db8:0:1::/64", "fe80:0:0:0::/64"]));
  });

  it("separates neighbouring /64 networks", () => {
    expect(ipRateLimitKey("2001:db8:0:1::1")).not.toBe(ipRateLimitKey("2001:db8:0:2::1"));
  });

  it("handles :: and an embedded IPv4 tail outside the mapped range", () => {
    expect(ipRateLimitKey("::")).toBe("0:0:0:0::/64");
    expect(ipRateLimitKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("passes anything that is not an IP address through, lower-cased", () => {
    expect(ipRateLimitKey("")).toBe("");
    expect(ipRateLimitKey("Unknown")).toBe("unknown");
  });
});
