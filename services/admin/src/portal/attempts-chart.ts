import { escapeHtml } from "./html.js";

export interface ChartHour {
  /** Start of the hour, epoch milliseconds. */
  hour: number;
  succeeded: number;
  failed: number;
}

const WIDTH = 480;
const HEIGHT = 120;
const AXIS = 16;

/**
 * Succeeded (green) over failed (red) attempts per hour as an inline SVG, rendered on the server:
 * no script, no chart library, and it passes a strict CSP (presentation attributes, no styles).
 * Each bar has a <title> a pointer shows.
 */
export function attemptsChart(hours: readonly ChartHour[]): string {
  const peak = Math.max(1, ...hours.map((hour) => hour.succeeded + hour.failed));
  const slot = WIDTH / Math.max(1, hours.length);
  const plot = HEIGHT - AXIS;
  const bars = hours.map((hour, index) => {
    const x = (index * slot + 1).toFixed(1);
    const width = Math.max(1, slot - 2).toFixed(1);
    const okHeight = (hour.succeeded / peak) * plot;
    const failedHeight = (hour.failed / peak) * plot;
    const label = `${new Date(hour.hour).toISOString().slice(11, 16)} UTC: ${hour.succeeded} succeeded, ${hour.failed} failed`;
    return (
      `<g class="bar"><title>${escapeHtml(label)}</title>` +
      `<rect x="${x}" y="${(plot - okHeight).toFixed(1)}" width="${width}" height="${okHeight.toFixed(1)}" fill="#2e7d32" data-kind="succeeded" data-count="${hour.succeeded}"/>` +
      `<rect x="${x}" y="${(plot - okHeight - failedHeight).toFixed(1)}" width="${width}" height="${failedHeight.toFixed(1)}" fill="#c62828" data-kind="failed" data-count="${hour.failed}"/></g>`
    );
  });
  const first = hours[0];
  const last = hours[hours.length - 1];
  const totals = hours.reduce((sum, hour) => ({ succeeded: sum.succeeded + hour.succeeded, failed: sum.failed + hour.failed }), { succeeded: 0, failed: 0 });
  const axis = first && last
    ? `<text x="0" y="${HEIGHT - 3}" font-size="10" fill="#555">${new Date(first.hour).toISOString().slice(11, 16)}</text>` +
      `<text x="${WIDTH}" y="${HEIGHT - 3}" font-size="10" fill="#555" text-anchor="end">${new Date(last.hour + 3_600_000).toISOString().slice(11, 16)} UTC</text>` +
      `<text x="${WIDTH / 2}" y="${HEIGHT - 3}" font-size="10" fill="#555" text-anchor="middle">max ${peak}/h</text>`
    : "";
  const summary = `Attempts per hour over the last ${hours.length} hours: ${totals.succeeded} succeeded, ${totals.failed} failed`;
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(summary)}">` +
    `<line x1="0" y1="${plot + 0.5}" x2="${WIDTH}" y2="${plot + 0.5}" stroke="#999"/>${bars.join("")}${axis}</svg>`
  );
}
