import type { EventSchemaFamily } from "./schema-catalogue.js";

/**
 * What the registry's FULL_TRANSITIVE check would refuse, checked locally with avsc: every
 * version of an event type must read every other version's data (old endpoints get new
 * events, new endpoints get old ones). Returns readable problems, empty when all is well.
 * The registry stays the authority; this catches mistakes before a registry is involved.
 */
export function fullTransitiveProblems(family: EventSchemaFamily): string[] {
  const problems: string[] = [];
  for (const reader of family.versions) {
    for (const writer of family.versions) {
      if (reader === writer) continue;
      try {
        reader.type.createResolver(writer.type);
      } catch (error) {
        problems.push(`${family.eventType}: v${reader.version} cannot read v${writer.version}: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
