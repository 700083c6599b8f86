import { retryTiers, type RetrySchedule, type TopicNaming } from "@novatrade/domain";
import { retryTopicSpec } from "@novatrade/endpoint-config";
import type { KafkaAdmin } from "@novatrade/kafka";

/**
 * Creates retry topics on demand: those of the configured schedule at start, and the topic of a
 * delay of an older schedule the first time a delivery still on it needs one. `onCreated` lets
 * the retry consumer pick a new topic up at once.
 */
export function retryTopicEnsurer(options: {
  admin: Pick<KafkaAdmin, "ensureTopics">;
  naming: TopicNaming;
  partitions: number;
  onCreated: (topic: string) => void;
}): { ensureSchedule(schedule: RetrySchedule): Promise<void>; ensure(topic: string, delayMs: number): Promise<void> } {
  const ready = new Set<string>();
  const ensureDelays = async (delays: number[]) => {
    const specs = delays.map((delayMs) => retryTopicSpec(options.naming, delayMs, options.partitions)).filter((spec) => !ready.has(spec.topic));
    if (specs.length === 0) return;
    await options.admin.ensureTopics(specs);
    for (const spec of specs) {
      ready.add(spec.topic);
      options.onCreated(spec.topic);
    }
  };
  return {
    ensureSchedule: (schedule) => ensureDelays(retryTiers(schedule)),
    ensure: (_topic, delayMs) => ensureDelays([delayMs]),
  };
}
