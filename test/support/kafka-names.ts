import { randomUUID } from "node:crypto";
import type { KafkaClient } from "@novatrade/kafka";

/** Topic and group names of one test, unique per run, so tests never share Kafka state. */
export interface Names {
  topic(label: string): string;
  group(label: string): string;
}

/**
 * A vitest fixture body handing each test its own names and, afterwards, deleting the groups
 * and topics it made. `newCleanupClient` makes a separate client: the fixture runs after the
 * test's own client disconnected, so its groups are idle and can be deleted.
 */
export function kafkaNamesFixture(prefix: string, newCleanupClient: () => KafkaClient) {
  return async ({}, use: (names: Names) => Promise<void>): Promise<void> => {
    const topics: string[] = [];
    const groups: string[] = [];
    const suffix = randomUUID().slice(0, 8);
    await use({
      topic: (label) => {
        const name = `${prefix}.${label}.${suffix}`;
        topics.push(name);
        return name;
      },
      group: (label) => {
        const name = `${prefix}-${label}-${suffix}`;
        groups.push(name);
        return name;
      },
    });
    const cleaner = newCleanupClient();
    try {
      await cleaner.admin.deleteGroups(groups).catch(() => undefined);
      await cleaner.admin.deleteTopics(topics);
    } finally {
      await cleaner.disconnect();
    }
  };
}
