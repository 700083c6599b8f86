import { defineConfig } from "vitest/config";
import { readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(fileURLToPath(import.meta.url));

// Tests import sibling packages by name; point those names at the TypeScript sources so a
// test run never depends on a stale dist/ build.
const alias = Object.fromEntries(
  readdirSync(path.join(root, "packages"))
    .filter((dir) => existsSync(path.join(root, "packages", dir, "src", "index.ts")))
    .map((dir) => [`@novatrade/${dir}`, path.join(root, "packages", dir, "src", "index.ts")]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "chaos/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/global-setup.ts"],
          // Real broker, registry and database on a 2-core machine: be generous.
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "chaos",
          include: ["chaos/**/*.run.ts"],
          environment: "node",
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 3_600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "bench",
          include: ["bench/**/*.bench.ts"],
          environment: "node",
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 900_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
