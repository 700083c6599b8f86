#!/usr/bin/env node
/**
 * `make dashboards`: writes deploy/grafana/dashboards/*.json from the code in this package.
 * `--check` writes nothing and exits 1 when a committed file differs from what would be written.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARDS_DIRECTORY, dashboardFiles } from "./dashboard-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const directory = path.join(root, DASHBOARDS_DIRECTORY);
const check = process.argv.includes("--check");
let stale = 0;
await mkdir(directory, { recursive: true });
for (const [name, text] of dashboardFiles()) {
  const file = path.join(directory, name);
  if (check) {
    const committed = await readFile(file, "utf8").catch(() => "");
    if (committed !== text) {
      stale++;
      process.stderr.write(`${path.join(DASHBOARDS_DIRECTORY, name)} differs from the generator: run make dashboards\n`);
    }
  } else {
    await writeFile(file, text);
    process.stdout.write(`wrote ${path.join(DASHBOARDS_DIRECTORY, name)}\n`);
  }
}
process.exitCode = stale === 0 ? 0 : 1;
