import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../results");

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** bench/results/<name>.json. */
export function writeResults(name: string, results: unknown): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
}

/** One row per figure: what it is, the value measured, the target next to it. */
export interface FigureRow {
  figure: string;
  measured: string | number | null;
  target?: string;
}

export function printTable(title: string, rows: FigureRow[]): void {
  const cells = rows.map((row) => [row.figure, String(row.measured ?? "—"), row.target ?? ""]);
  const widths = [0, 1, 2].map((column) => Math.max(...[["figure", "measured", "target"], ...cells].map((cell) => cell[column]!.length)));
  const line = (cell: string[]) => cell.map((value, column) => value.padEnd(widths[column]!)).join(" | ");
  console.log([`\n${title}`, line(["figure", "measured", "target"]), widths.map((width) => "-".repeat(width)).join("-|-"), ...cells.map(line)].join("\n"));
}
