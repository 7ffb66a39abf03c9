/** Small formatting helpers shared by the views. */
import { describeDuration } from "../duration.js";
import { html, type SafeHtml } from "./html.js";

/** A timestamp as a `<time>` element in UTC ("2026-01-31 14:05 UTC"), with the relative age for people. */
export function formatTime(ms: number, now: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  const rel = Math.abs(now - ms) < 60_000 && ms <= now ? "just now" : ms <= now ? `${describeDuration(now - ms)} ago` : `in ${describeDuration(ms - now)}`;
  return html`<time datetime="${iso}">${text}</time> <span class="hint">(${rel})</span>`;
}

/**
 * A short human name for a User-Agent ("Firefox on Android"); shown to help a user recognise a device, never used
 * for decisions.
 */
export function describeUserAgent(userAgent: string | undefined): string {
  if (!userAgent) return "Unknown device";
  const browser =
    /Edg\//.test(userAgent) ? "Edge"
    : /OPR\//.test(userAgent) ? "Opera"
    : /Firefox\//.test(userAgent) ? "Firefox"
    : /Chrome\//.test(userAgent) ? "Chrome"
    : /Safari\//.test(userAgent) ? "Safari"
    : /^curl\//.test(userAgent) ? "curl"
    : null;
  const os =
    /Android/.test(userAgent) ? "Android"
    : /iPhone|iPad|iOS/.test(userAgent) ? "iOS"
    : /Windows/.test(userAgent) ? "Windows"
    : /Mac OS X|Macintosh/.test(userAgent) ? "macOS"
    : /Linux/.test(userAgent) ? "Linux"
    : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? userAgent.slice(0, 60);
}
