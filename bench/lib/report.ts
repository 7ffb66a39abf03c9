/**
 * Statistics over rounds, the markdown table, and a small dependency-free SVG bar chart.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BENCH_DIR } from "./processes.js";

export const RESULTS_DIR = join(BENCH_DIR, "results");

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : String(Math.round(value));
}

export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "—" : `${value.toFixed(2)}×`;
}

export function formatBytes(value: number): string {
  if (Math.abs(value) >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MiB`;
  if (Math.abs(value) >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${Math.round(value)} B`;
}

/** A markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * Write `bench/results/<name>.md` and `.json`; a name that is an absolute path (`BENCH_RESULTS=/tmp/run`) is written
 * there instead, and a missing folder is made (a joined `/tmp/run` became `results/tmp/run`, which failed at the end of
 * the run when `results/tmp` did not exist).
 */
export async function writeSection(name: string, markdown: string, data: unknown): Promise<void> {
  const base = resolve(RESULTS_DIR, name);
  await mkdir(dirname(base), { recursive: true });
  await writeFile(`${base}.md`, `${markdown.trim()}\n`);
  await writeFile(`${base}.json`, `${JSON.stringify(data, null, 2)}\n`);
}

export interface Bar {
  label: string;
  value: number;
  /** Printed after the value, e.g. "0.97× bare". */
  note: string;
  side: "baseline" | "peer" | "ours";
}

const COLORS = { baseline: "#8a8f98", peer: "#d08c3c", ours: "#2f6fb3" };

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** Horizontal bars, one group per workload; values in req/s. */
export function svgBarChart(title: string, groups: { title: string; bars: Bar[] }[]): string {
  const width = 1000;
  const labelWidth = 280;
  const barArea = 400;
  const rowHeight = 24;
  const parts: string[] = [];
  let y = 36;
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  for (const group of groups) {
    const max = Math.max(...group.bars.map((b) => b.value), 1);
    y += 10;
    parts.push(`<text x="12" y="${y + 12}" font-size="13" font-weight="bold">${escapeXml(group.title)}</text>`);
    y += 22;
    for (const bar of group.bars) {
      const length = Math.max(1, Math.round((bar.value / max) * barArea));
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${length}" height="${rowHeight - 6}" fill="${COLORS[bar.side]}"/>`,
        `<text x="${labelWidth + length + 6}" y="${y + 15}" font-size="12">${escapeXml(`${formatRate(bar.value)} req/s  ${bar.note}`)}</text>`,
      );
      y += rowHeight;
    }
  }
  y += 8;
  const legend = [
    ["baseline", "no session"],
    ["peer", "what a user would pick instead"],
    ["ours", "cloakroom"],
  ] as const;
  legend.forEach(([side, text], i) => {
    const x = 12 + i * 240;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[side]}"/>`, `<text x="${x + 18}" y="${y + 11}" font-size="12">${text}</text>`);
  });
  y += 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    `</svg>`,
  ].join("\n");
}
