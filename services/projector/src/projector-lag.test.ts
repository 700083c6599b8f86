import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createProjectorMetrics } from "./metrics.js";
import { projectionLagSeconds } from "./projector-service.js";

describe("projector lag", () => {
  it("is now minus the newest record timestamp of the batch, in seconds", () => {
    expect(projectionLagSeconds([{ timestamp: 1_000 }, { timestamp: 61_000 }, { timestamp: 31_000 }], 91_000)).toBe(30);
  });
  it("is never negative (clock skew) and unknown for an empty batch", () => {
    expect(projectionLagSeconds([{ timestamp: 10_000 }], 5_000)).toBe(0);
    expect(projectionLagSeconds([], 5_000)).toBeNull();
  });
  it("is exported as novatrade_projector_lag_seconds", async () => {
    const registry = new Registry();
    const metrics = createProjectorMetrics(registry);
    metrics.lagSeconds.set(12);
    expect(await registry.metrics()).toMatch(/^novatrade_projector_lag_seconds 12$/m);
  });
});
