import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/** The Prometheus data source provisioned next to the dashboards (deploy/grafana/provisioning). */
export const PROMETHEUS_DATASOURCE = { type: "prometheus", uid: "prometheus" };

/** One PromQL query of a panel and how its series are named in the legend. */
export interface PanelQuery {
  expr: string;
  legend: string;
}

function target(query: PanelQuery, index: number): DataqueryBuilder {
  return new DataqueryBuilder()
    .datasource(PROMETHEUS_DATASOURCE)
    .refId(String.fromCharCode(65 + index))
    .expr(query.expr)
    .legendFormat(query.legend);
}

/** A time series panel, half the dashboard wide. `unit` is a Grafana unit id (`reqps`, `s`, `short`). */
export function timeseries(title: string, unit: string, queries: PanelQuery[], description = ""): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder().title(title).description(description).unit(unit).datasource(PROMETHEUS_DATASOURCE).height(8).span(12);
  queries.forEach((query, index) => panel.withTarget(target(query, index)));
  return panel;
}

/** A single-number panel, a quarter of the dashboard wide. */
export function stat(title: string, unit: string, query: PanelQuery, description = ""): StatPanelBuilder {
  return new StatPanelBuilder().title(title).description(description).unit(unit).datasource(PROMETHEUS_DATASOURCE).height(4).span(6).withTarget(target(query, 0));
}

/** Every PromQL expression of a built dashboard, with the panel it belongs to. */
export function dashboardQueries(dashboard: Dashboard): Array<{ panel: string; expr: string }> {
  const found: Array<{ panel: string; expr: string }> = [];
  const visit = (panels: unknown[] | undefined) => {
    for (const panel of panels ?? []) {
      const { title, targets, panels: nested } = panel as { title?: string; targets?: Array<{ expr?: string }>; panels?: unknown[] };
      for (const query of targets ?? []) if (query.expr) found.push({ panel: title ?? "", expr: query.expr });
      visit(nested);
    }
  };
  visit(dashboard.panels);
  return found;
}
