/** Durations as operators write them (`30m`, `12h`) and as people read them. */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parse `<integer><unit>` with unit ms, s, m, h or d. A unit is required: a bare `30` is ambiguous.
 * @returns milliseconds, or `null` when the text is not a duration
 * @example parseDuration("30m") // 1_800_000
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

/**
 * Describe a span of time roughly, for pages and CLI output ("3 min", "2 h", "5 d").
 * @example describeDuration(90_000) // "1 min"
 */
export function describeDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.round(abs / 1000)} s`;
  if (abs < 3_600_000) return `${Math.floor(abs / 60_000)} min`;
  if (abs < 86_400_000) return `${Math.floor(abs / 3_600_000)} h`;
  return `${Math.floor(abs / 86_400_000)} d`;
}
