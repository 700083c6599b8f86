import { overviewDashboard } from "./overview-dashboard.js";

/** Where the provisioned dashboards live, relative to the repository root. */
export const DASHBOARDS_DIRECTORY = "deploy/grafana/dashboards";

/** Every dashboard as the file Grafana provisions: name → JSON text (stable, newline-terminated). */
export function dashboardFiles(): Map<string, string> {
  return new Map([["novatrade-overview.json", `${JSON.stringify(overviewDashboard(), null, 2)}\n`]]);
}
