/**
 * The zod parsers of environment variables the configuration is built from: each takes the raw text (or nothing)
 * and yields a typed value, or an issue whose message says what the variable accepts.
 */
import { z } from "zod";
import { parseDuration } from "./duration.js";

/** What Express's `trust proxy` setting receives: off, on (every hop), a hop count, or a list of addresses/names. */
export type TrustProxySetting = boolean | number | string[];

/** Trimmed text; empty or unset is `undefined`. */
export const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/** A duration with a unit (`500ms`, `90s`, `30m`, `12h`, `7d`) into milliseconds, within `[min, max]`. */
export function duration(fallback: string, min: number, max: number) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null || ms < min || ms > max) {
        ctx.addIssue({ code: "custom", message: `must be a duration like 30m, 12h or 900s (between ${formatMs(min)} and ${formatMs(max)})` });
        return z.NEVER;
      }
      return ms;
    });
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A whole number from 1 to `max`. */
export function positiveInt(fallback: number, max: number) {
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= max, { message: `must be a whole number from 1 to ${max}` })
    .transform(Number);
}

/** An optional URL with one of `protocols` (`"redis:"`, …). */
export function url(protocols: string[]) {
  return optionalText.refine((v) => v === undefined || hasProtocol(v, protocols), {
    message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  });
}

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Whether `value` is exactly an http(s) origin: scheme, host, optional port, nothing else. */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === value;
  } catch {
    return false;
  }
}

/** One origin like `https://auth.example.com` (no path, no trailing slash), or unset. */
export const origin = optionalText.refine((v) => v === undefined || isOrigin(v), {
  message: "must be an origin like https://auth.example.com (no path, no trailing slash)",
});

/** A comma-separated list of origins, or `null` when unset. */
export const origins = optionalText.transform((v, ctx) => {
  if (v === undefined) return null;
  const list = v.split(",").map((s) => s.trim());
  if (!list.every(isOrigin)) {
    ctx.addIssue({ code: "custom", message: "must be a comma-separated list of origins like https://auth.example.com (no path, no trailing slash)" });
    return z.NEVER;
  }
  return list;
});

/** Express `trust proxy`: false, true, a hop count, or IPs/CIDRs and proxy-addr's names. */
export const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((v, ctx): TrustProxySetting => {
    if (v === "false" || v === "0" || v === "") return false;
    if (v === "true") return true;
    if (/^\d+$/.test(v)) return Number(v);
    const parts = v.split(",").map((p) => p.trim());
    // Express (proxy-addr) accepts the names loopback/linklocal/uniquelocal, IPs and CIDR ranges.
    if (parts.every((p) => /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(p))) return parts;
    ctx.addIssue({ code: "custom", message: "must be false, true, a hop count, or a comma-separated list of IPs/CIDRs (loopback, linklocal, uniquelocal allowed)" });
    return z.NEVER;
  });

/** Comma-separated session secrets of at least 32 characters each; `null` when unset. */
export const secrets = optionalText.transform((v, ctx) => {
  if (v === undefined) return null;
  const list = v.split(",").map((s) => s.trim());
  if (list.some((s) => s.length < 32)) {
    ctx.addIssue({ code: "custom", message: "must be a comma-separated list of secrets, each at least 32 characters (the first signs)" });
    return z.NEVER;
  }
  return list;
});

/** A sender like `Cloakroom <no-reply@example.com>` or `no-reply@example.com`, or unset. */
export const mailbox = optionalText.refine((v) => v === undefined || /^([^<>@\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/.test(v), {
  message: "must be an address like no-reply@example.com or Name <no-reply@example.com>",
});
