import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSection } from "./report.js";

describe("writeSection", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("writes an absolute BENCH_RESULTS name where it points, making the missing folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-report-"));
    dirs.push(dir);
    const base = join(dir, "not-yet", "run");
    await writeSection(base, "# table\n", { rows: 1 });
    expect(await readFile(`${base}.md`, "utf8")).toBe("# table\n");
    expect(JSON.parse(await readFile(`${base}.json`, "utf8"))).toEqual({ rows: 1 });
  });
});
