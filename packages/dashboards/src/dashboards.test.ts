import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { DASHBOARDS_DIRECTORY, dashboardFiles } from "./dashboard-files.js";
import { overviewDashboard } from "./overview-dashboard.js";
import { dashboardQueries, PROMETHEUS_DATASOURCE } from "./panels.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("Grafana dashboards as code", () => {
  test.each([...dashboardFiles()])("the committed %s is what the generator writes (run make dashboards)", (name, generated) => {
    const committed = readFileSync(path.join(root, DASHBOARDS_DIRECTORY, name), "utf8");
    expect(committed).toBe(generated);
  });

  test("every panel has a place on the grid and every query uses the provisioned Prometheus", () => {
    const dashboard = overviewDashboard();
    for (const panel of dashboard.panels ?? []) {
      expect(panel.gridPos, panel.title).toBeDefined();
      const { targets } = panel as { targets?: Array<{ datasource?: unknown }> };
      for (const query of targets ?? []) expect(query.datasource).toEqual(PROMETHEUS_DATASOURCE);
    }
    expect(dashboardQueries(dashboard).length).toBeGreaterThan(15);
  });

  test("no query groups by a label of unbounded values", () => {
    for (const { panel, expr } of dashboardQueries(overviewDashboard())) {
      expect(expr, panel).not.toMatch(/\b(endpoint_id|endpoint|organization|url|topic)\b/);
    }
  });
});
