import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Environment variable names a zod config declares: the keys written `NAME: someVar(…)` in it. */
async function declaredVariables(file: string): Promise<string[]> {
  const text = await readFile(path.join(root, file), "utf8");
  return [...text.matchAll(/^\s+([A-Z][A-Z0-9_]+):\s/gm)].map((match) => match[1]!);
}

/** The operator's table in README.md must name every variable a service or tool reads. */
describe("README configuration table", () => {
  test("names every variable of every config.ts, the shared runtime and the demo", async () => {
    const files = [
      ...(await readdir(path.join(root, "services"))).map((service) => `services/${service}/src/config.ts`),
      "packages/service-runtime/src/env-config.ts",
      "packages/demo/src/config.ts",
    ];
    const readme = await readFile(path.join(root, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("### Configuration"), readme.indexOf("### Metrics"));
    const missing: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const name of await declaredVariables(file)) {
        checked++;
        if (!new RegExp(`\\b${name}\\b`).test(table)) missing.push(`${name} (${file})`);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });
});
