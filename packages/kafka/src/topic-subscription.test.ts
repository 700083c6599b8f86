import { describe, expect, it } from "vitest";
import { diffTopics, hasPattern, resolveTopics, type TopicSelector } from "./topic-subscription.js";

const cluster = ["deliveries.ep-1", "deliveries.ep-2", "deliveries-retry.1m", "events", "__consumer_offsets"];

describe("resolveTopics", () => {
  it.each<[string, TopicSelector[], string[]]>([
    ["exact names, even unknown ones", ["events", "missing"], ["events", "missing"]],
    ["a pattern", [/^deliveries\.ep-/], ["deliveries.ep-1", "deliveries.ep-2"]],
    ["a global pattern on every topic (no lastIndex carry-over)", [/^deliveries\./g], ["deliveries.ep-1", "deliveries.ep-2"]],
    ["names and patterns, deduplicated and sorted", [/^deliveries\.ep-2$/, "events", "deliveries.ep-2"], ["deliveries.ep-2", "events"]],
    ["a pattern that matches nothing", [/^nothing/], []],
  ])("resolves %s", (_name, selectors, expected) => {
    expect(resolveTopics(selectors, cluster)).toEqual(expected);
  });

  it("keeps only the topics, named or matched, the filter keeps (a delivery shard's)", () => {
    const keep = (topic: string) => !topic.endsWith("-1");
    expect(resolveTopics([/^deliveries\./, "events", "other-1"], cluster, keep)).toEqual(["deliveries.ep-2", "events"]);
  });
});

describe("hasPattern", () => {
  it("tells names from patterns", () => {
    expect(hasPattern(["a", "b"])).toBe(false);
    expect(hasPattern(["a", /b/])).toBe(true);
  });
});

describe("diffTopics", () => {
  it.each([
    [["a", "b"], ["a", "b"], { added: [], removed: [] }],
    [["a"], ["a", "b"], { added: ["b"], removed: [] }],
    [["a", "b"], ["b", "c"], { added: ["c"], removed: ["a"] }],
    [[], ["a"], { added: ["a"], removed: [] }],
  ])("diffs %j to %j", (before, after, expected) => {
    expect(diffTopics(before, after)).toEqual(expected);
  });
});
