/** What a consumer subscribes to: exact topic names and/or patterns matched against the cluster. */
export type TopicSelector = string | RegExp;

/**
 * The topics a subscription covers, given the topics that exist now, and only those `keep`
 * returns true for (applied before sorting: a shard keeps a sixteenth of 10,000 topics).
 * Sorted, without duplicates.
 */
export function resolveTopics(selectors: readonly TopicSelector[], existing: readonly string[], keep: (topic: string) => boolean = () => true): string[] {
  const resolved = new Set<string>();
  for (const selector of selectors) {
    if (typeof selector === "string") {
      if (keep(selector)) resolved.add(selector);
      continue;
    }
    // A global or sticky RegExp keeps state between test() calls; match on a copy without those
    // flags (one per selector, not per topic: 16 delivery shards each match every topic of a
    // 10,000-topic listing every refresh).
    const pattern = new RegExp(selector.source, selector.flags.replace(/[gy]/g, ""));
    for (const topic of existing) if (pattern.test(topic) && keep(topic)) resolved.add(topic);
  }
  return [...resolved].sort();
}

export function hasPattern(selectors: readonly TopicSelector[]): boolean {
  return selectors.some((selector) => selector instanceof RegExp);
}

export interface TopicSetChange {
  added: string[];
  removed: string[];
}

export function diffTopics(before: readonly string[], after: readonly string[]): TopicSetChange {
  const previous = new Set(before);
  const next = new Set(after);
  return {
    added: after.filter((topic) => !previous.has(topic)),
    removed: before.filter((topic) => !next.has(topic)),
  };
}
