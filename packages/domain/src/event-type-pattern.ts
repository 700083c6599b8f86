import { ValidationError } from "./errors.js";
import { EVENT_DOMAINS, EVENT_TYPES, eventDomain, isEventType, type EventType } from "./event-types.js";

/**
 * A subscription pattern (SPEC §3): an exact known type (`kyc.vies_check_failed`) or a segment
 * wildcard over a known domain (`kyc.*`). There is deliberately no root wildcard: an endpoint
 * must name what it wants, so a new event type never starts flowing to integrators unasked.
 */
export type EventTypePattern = EventType | `${string}.*`;

export type ParsedEventTypePattern =
  | { kind: "exact"; pattern: EventType; type: EventType }
  | { kind: "domain"; pattern: `${string}.*`; domain: string };

const WILDCARD_SUFFIX = ".*";

/**
 * Parses one pattern.
 * @param field where the pattern came from, for the error (`eventTypes[2]`).
 * @throws ValidationError for `*`, an unknown type, an unknown domain or anything else.
 */
export function parseEventTypePattern(pattern: unknown, field = "eventType"): ParsedEventTypePattern {
  if (typeof pattern !== "string") throw new ValidationError(field, "must be a string");
  if (pattern === "*" || pattern === "*.*") {
    throw new ValidationError(field, `the root wildcard ${JSON.stringify(pattern)} is not allowed; subscribe to a domain such as "kyc.*"`);
  }
  if (pattern.endsWith(WILDCARD_SUFFIX)) {
    const domain = pattern.slice(0, -WILDCARD_SUFFIX.length);
    if (!EVENT_DOMAINS.includes(domain)) {
      throw new ValidationError(
        field,
        `unknown event domain in ${JSON.stringify(pattern)}; known wildcards: ${EVENT_DOMAINS.map((d) => `${d}.*`).join(", ")}`,
      );
    }
    return { kind: "domain", pattern: pattern as `${string}.*`, domain };
  }
  if (!isEventType(pattern)) {
    throw new ValidationError(field, `unknown event type ${JSON.stringify(pattern)}`);
  }
  return { kind: "exact", pattern, type: pattern };
}

/**
 * Validates the `eventTypes` list of an endpoint registration and returns it typed, in the
 * order given.
 *
 * Rejects an empty list, non-strings, unknown types or domains, `*`, exact duplicates, and an
 * exact type that a wildcard in the same list already covers (`["kyc.*", "kyc.vies_check_failed"]`):
 * the second entry would change nothing, so it is almost certainly a mistake.
 * @param field the field name used in errors; elements are reported as `<field>[i]`.
 * @throws ValidationError naming the offending element.
 */
export function validateEventTypePatterns(input: unknown, field = "eventTypes"): EventTypePattern[] {
  if (!Array.isArray(input)) throw new ValidationError(field, "must be an array of event types");
  if (input.length === 0) throw new ValidationError(field, "must list at least one event type");
  const parsed = input.map((pattern, i) => parseEventTypePattern(pattern, `${field}[${i}]`));
  const firstIndex = new Map<string, number>();
  parsed.forEach((p, i) => {
    const earlier = firstIndex.get(p.pattern);
    if (earlier !== undefined) {
      throw new ValidationError(`${field}[${i}]`, `duplicates ${field}[${earlier}] (${JSON.stringify(p.pattern)})`);
    }
    firstIndex.set(p.pattern, i);
  });
  parsed.forEach((p, i) => {
    if (p.kind !== "exact") return;
    const wildcard = `${eventDomain(p.type)}${WILDCARD_SUFFIX}`;
    const at = firstIndex.get(wildcard);
    if (at !== undefined) {
      throw new ValidationError(`${field}[${i}]`, `${JSON.stringify(p.type)} is already covered by ${field}[${at}] (${JSON.stringify(wildcard)})`);
    }
  });
  return parsed.map((p) => p.pattern);
}

/**
 * Whether any pattern matches the event type. Patterns are compared as stored; a malformed
 * stored pattern (including a root `*`) matches nothing rather than widening the subscription.
 */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  const domain = eventDomain(type);
  return patterns.some((pattern) =>
    pattern.endsWith(WILDCARD_SUFFIX)
      ? pattern.slice(0, -WILDCARD_SUFFIX.length) === domain && domain !== "*" && domain !== "" && type !== domain
      : pattern === type,
  );
}

/** The known event types a list of patterns subscribes to, in catalogue order. */
export function expandEventTypePatterns(patterns: readonly string[]): EventType[] {
  return EVENT_TYPES.filter((type) => matchesEventType(patterns, type));
}
