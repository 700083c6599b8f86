import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  DEFAULT_TOPIC_NAMING,
  deliveryTopic,
  deliveryTopicPattern,
  isLegalTopicName,
  MAX_TOPIC_NAME_LENGTH,
  retryTopicForDelay,
  retryTopicPattern,
  retryTopicsForSchedule,
  topicKind,
  topicNames,
  validateTopicNaming,
  type TopicNaming,
} from "./delivery-topic.js";
import { DEFAULT_RETRY_SCHEDULE } from "./retry-schedule.js";

const naming: TopicNaming = { prefix: "novatrade.webhooks." };

describe("topicNames", () => {
  it.each<[TopicNaming, ReturnType<typeof topicNames>]>([
    [
      naming,
      {
        domain: "novatrade.webhooks.events",
        endpointConfig: "novatrade.webhooks.endpoint-config",
        deliveryOutcome: "novatrade.webhooks.delivery-outcomes",
        deadLetter: "novatrade.webhooks.dead-letter",
        workSignals: "novatrade.webhooks.work-signals",
      },
    ],
    [
      { prefix: "t1-", domainTopic: "novatrade.domain-events" },
      { domain: "novatrade.domain-events", endpointConfig: "t1-endpoint-config", deliveryOutcome: "t1-delivery-outcomes", deadLetter: "t1-dead-letter", workSignals: "t1-work-signals" },
    ],
  ])("%j", (n, expected) => {
    expect(topicNames(n)).toEqual(expected);
  });

  it("default naming uses the novatrade.webhooks. prefix", () => {
    expect(topicNames(DEFAULT_TOPIC_NAMING).domain).toBe("novatrade.webhooks.events");
  });
});

describe("deliveryTopic", () => {
  it.each([
    ["ep_01HZX3", "novatrade.webhooks.delivery.ep_01HZX3"],
    ["ep-1", "novatrade.webhooks.delivery.ep-1"],
    ["550e8400-e29b-41d4-a716-446655440000", "novatrade.webhooks.delivery.550e8400-e29b-41d4-a716-446655440000"],
  ])("plain id %s is kept", (id, expected) => {
    expect(deliveryTopic(naming, id)).toBe(expected);
  });

  it.each([["ep/1"], ["ep.1"], ["ep 1"], ["ép_1"], ["a".repeat(300)], ["ep:1"]])("sanitises %j into a legal, hashed name", (id) => {
    const topic = deliveryTopic(naming, id);
    expect(isLegalTopicName(topic)).toBe(true);
    expect(topic.length).toBeLessThanOrEqual(MAX_TOPIC_NAME_LENGTH);
    expect(topic).toMatch(/^novatrade\.webhooks\.delivery\.[a-zA-Z0-9_-]+-[0-9a-f]{12}$/);
    expect(deliveryTopic(naming, id)).toBe(topic);
    expect(deliveryTopicPattern(naming).test(topic)).toBe(true);
  });

  it("keeps distinct ids distinct after sanitising", () => {
    const ids = ["ep/1", "ep:1", "ep.1", "ep_1", "a".repeat(300), `${"a".repeat(300)}b`];
    expect(new Set(ids.map((id) => deliveryTopic(naming, id))).size).toBe(ids.length);
  });

  it("fits 249 characters with the longest prefix", () => {
    const long: TopicNaming = { prefix: `${"p".repeat(149)}.` };
    validateTopicNaming(long);
    const topic = deliveryTopic(long, "e".repeat(120));
    expect(topic.length).toBe(MAX_TOPIC_NAME_LENGTH);
    expect(isLegalTopicName(topic)).toBe(true);
  });

  it("rejects an empty id", () => {
    expect(() => deliveryTopic(naming, "")).toThrowError(ValidationError);
  });

  it.each([
    ["novatrade.webhooks.delivery.ep_1", true],
    ["novatrade.webhooks.delivery-outcomes", false],
    ["novatrade.webhooks.retry.0", false],
    ["novatradeXwebhooks.delivery.ep_1", false],
    ["novatrade.webhooks.delivery.", false],
    ["other.novatrade.webhooks.delivery.ep_1", false],
  ])("pattern on %s → %s", (topic, expected) => {
    expect(deliveryTopicPattern(naming).test(topic)).toBe(expected);
  });
});

describe("delay-named retry topics", () => {
  it.each([
    [5_000, "novatrade.webhooks.retry.5s"],
    [300_000, "novatrade.webhooks.retry.5m"],
    [72_000_000, "novatrade.webhooks.retry.20h"],
    [150, "novatrade.webhooks.retry.150ms"],
  ])("%i ms → %s", (delay, expected) => {
    expect(retryTopicForDelay(naming, delay)).toBe(expected);
    expect(retryTopicPattern(naming).test(expected)).toBe(true);
  });

  it("a schedule change never puts two delays in one topic", () => {
    const before = retryTopicsForSchedule(naming, [5_000, 300_000, 300_000]);
    const after = retryTopicsForSchedule(naming, [10_000, 300_000]);
    expect(before).toEqual(["novatrade.webhooks.retry.5s", "novatrade.webhooks.retry.5m"]);
    expect(after).toEqual(["novatrade.webhooks.retry.10s", "novatrade.webhooks.retry.5m"]);
  });

  it.each([[0], [-5], [1.5]])("rejects delay %d", (delay) => {
    expect(() => retryTopicForDelay(naming, delay)).toThrowError(RangeError);
  });

  it("the pattern also matches the tier-numbered topics of earlier versions, so they drain", () => {
    expect(retryTopicPattern(naming).test("novatrade.webhooks.retry.0")).toBe(true);
  });

  it.each(["novatrade.webhooks.retry.x", "novatrade.webhooks.delivery.ep_1", "novatradeXwebhooks.retry.5s", "novatrade.webhooks.retry.5s.x"])(
    "the pattern does not match %s",
    (topic) => expect(retryTopicPattern(naming).test(topic)).toBe(false),
  );
});

describe("validateTopicNaming", () => {
  it.each<[TopicNaming, string | null]>([
    [naming, null],
    [{ prefix: "" }, null],
    [{ prefix: "test-42_" }, null],
    [{ prefix: "bad prefix." }, "prefix"],
    [{ prefix: "bad/prefix." }, "prefix"],
    [{ prefix: "p".repeat(151) }, "prefix"],
    [{ prefix: "ok.", domainTopic: "" }, "domainTopic"],
    [{ prefix: "ok.", domainTopic: "a b" }, "domainTopic"],
    [{ prefix: "ok.", domainTopic: ".." }, "domainTopic"],
    [{ prefix: "ok.", domainTopic: "x".repeat(250) }, "domainTopic"],
  ])("%j → %s", (n, field) => {
    if (field === null) expect(validateTopicNaming(n)).toBe(n);
    else expect(() => validateTopicNaming(n)).toThrowError(new RegExp(`^${field}:`));
  });

  it("every name of a valid naming is a legal topic", () => {
    const names = [...Object.values(topicNames(naming)), deliveryTopic(naming, "ep_1"), ...retryTopicsForSchedule(naming, DEFAULT_RETRY_SCHEDULE)];
    for (const name of names) expect(isLegalTopicName(name)).toBe(true);
  });
});

describe("topicKind (a bounded metric label)", () => {
  it.each([
    ["novatrade.events", "domain"],
    ["novatrade.webhooks.endpoint-config", "endpoint_config"],
    ["novatrade.webhooks.delivery-outcomes", "delivery_outcome"],
    ["novatrade.webhooks.dead-letter", "dead_letter"],
    ["novatrade.webhooks.delivery.ep_123", "delivery"],
    ["novatrade.webhooks.delivery.another-endpoint", "delivery"],
    ["novatrade.webhooks.retry.5m", "retry_5m"],
    ["novatrade.webhooks.retry.2", "retry_2"],
    ["someone.elses.topic", "other"],
  ])("%s -> %s", (topic, kind) => expect(topicKind({ ...naming, domainTopic: "novatrade.events" }, topic)).toBe(kind));
});
