import { describe, expect, test } from "vitest";
import { attemptsChart } from "./attempts-chart.js";

const HOUR = 3_600_000;
const START = Date.UTC(2026, 11, 1, 0);

function bars(svg: string) {
  return [...svg.matchAll(/<rect [^>]*height="([0-9.]+)" fill="[^"]+" data-kind="(\w+)" data-count="(\d+)"/g)].map((match) => ({ height: Number(match[1]), kind: match[2], count: Number(match[3]) }));
}

describe("attemptsChart", () => {
  test("one stacked bar per hour, heights proportional to the busiest hour", () => {
    const svg = attemptsChart([
      { hour: START, succeeded: 4, failed: 0 },
      { hour: START + HOUR, succeeded: 1, failed: 1 },
      { hour: START + 2 * HOUR, succeeded: 0, failed: 0 },
    ]);
    const drawn = bars(svg);
    expect(drawn.map((bar) => [bar.kind, bar.count])).toEqual([
      ["succeeded", 4], ["failed", 0], ["succeeded", 1], ["failed", 1], ["succeeded", 0], ["failed", 0],
    ]);
    expect(drawn[0]!.height).toBeCloseTo(104);
    expect(drawn[2]!.height).toBeCloseTo(26);
    expect(drawn[3]!.height).toBeCloseTo(26);
    expect(svg).toContain("<title>01:00 UTC: 1 succeeded, 1 failed</title>");
    expect(svg).toContain('aria-label="Attempts per hour over the last 3 hours: 5 succeeded, 1 failed"');
  });

  test("an idle day draws empty bars, not a division by zero", () => {
    const svg = attemptsChart(Array.from({ length: 24 }, (_, index) => ({ hour: START + index * HOUR, succeeded: 0, failed: 0 })));
    expect(bars(svg)).toHaveLength(48);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  test("has no style attribute or element (the portal's CSP forbids inline styles)", () => {
    expect(attemptsChart([{ hour: START, succeeded: 1, failed: 2 }])).not.toMatch(/style/);
  });
});
