import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  addDays,
  dayStart,
  DEFAULT_RETENTION_POLICY,
  isWithinRetention,
  partitionDay,
  partitionName,
  planPartitions,
  utcDay,
  validateRetentionPolicy,
} from "./history-partitions.js";

const NOW = Date.UTC(2026, 11, 1, 5, 30);

describe("day partitions", () => {
  it.each([
    [Date.UTC(2026, 11, 1, 0, 0, 0), "2026-12-01"],
    [Date.UTC(2026, 11, 1, 23, 59, 59, 999), "2026-12-01"],
    [Date.UTC(2026, 11, 2), "2026-12-02"],
    [0, "1970-01-01"],
  ])("utcDay(%d) is %s", (ms, day) => {
    expect(utcDay(ms)).toBe(day);
    expect(dayStart(day)).toBeLessThanOrEqual(ms);
  });

  it("adds days across months and years", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });

  it("names partitions and reads the day back", () => {
    expect(partitionName("attempts", "2026-12-01")).toBe("attempts_p20261201");
    expect(partitionDay("attempts", "attempts_p20261201")).toBe("2026-12-01");
    expect(partitionDay("attempts", "deliveries_p20261201")).toBeNull();
    expect(partitionDay("attempts", "attempts_default")).toBeNull();
  });

  it("rejects what is not a day", () => {
    expect(() => dayStart("2026-13-45")).toThrowError(ValidationError);
    expect(() => dayStart("yesterday")).toThrowError(/^day:/);
    expect(() => utcDay(Number.NaN)).toThrowError(ValidationError);
  });
});

describe("planPartitions", () => {
  it("creates today and the days ahead that are missing", () => {
    const plan = planPartitions(["2026-12-01", "2026-12-03"], NOW, { retentionDays: 30, aheadDays: 3 });
    expect(plan.create).toEqual(["2026-12-02", "2026-12-04"]);
    expect(plan.drop).toEqual([]);
  });

  it("drops exactly the days older than retention and keeps the 30 days up to today", () => {
    const existing = ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-15", "2026-12-01"];
    const plan = planPartitions(existing, NOW, DEFAULT_RETENTION_POLICY);
    // 30 days including today: 2026-11-02 .. 2026-12-01.
    expect(plan.drop).toEqual(["2026-10-31", "2026-11-01"]);
    expect(isWithinRetention("2026-11-02", NOW, DEFAULT_RETENTION_POLICY)).toBe(true);
    expect(isWithinRetention("2026-11-01", NOW, DEFAULT_RETENTION_POLICY)).toBe(false);
  });

  it("takes the retention as input", () => {
    expect(planPartitions(["2026-11-29", "2026-11-30", "2026-12-01"], NOW, { retentionDays: 2, aheadDays: 0 }).drop).toEqual(["2026-11-29"]);
  });

  it.each([
    [{ retentionDays: 0, aheadDays: 1 }, "retentionDays"],
    [{ retentionDays: 30, aheadDays: -1 }, "aheadDays"],
    [{ retentionDays: 1.5, aheadDays: 1 }, "retentionDays"],
  ])("rejects %j naming %s", (policy, field) => {
    expect(() => validateRetentionPolicy(policy)).toThrowError(new RegExp(`^${field}:`));
  });
});
