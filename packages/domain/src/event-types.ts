/**
 * The catalogue of event types (SPEC §2). The type string is the routing key; its first
 * segment is the domain that segment wildcards (`kyc.*`) match.
 */
export const EVENT_TYPES = [
  "compliance.status_changed",
  "compliance.decision_made",
  "kyc.vies_check_failed",
  "kyc.verification_completed",
  "export_file.generated",
  "prospect.submitted",
  "self_service_invitation.used",
  "self_service_invitation.expired",
  "webhook.endpoint_auto_paused",
  "webhook.delivery_failed_terminal",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Meta events are about the dispatcher itself; failures delivering them never emit more. */
export const META_EVENT_TYPES: readonly EventType[] = [
  "webhook.endpoint_auto_paused",
  "webhook.delivery_failed_terminal",
];

export const EVENT_SOURCES = ["API", "WEB_APP", "SYSTEM"] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

const eventTypeSet: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(value: string): value is EventType {
  return eventTypeSet.has(value);
}

export function isMetaEventType(type: string): boolean {
  return (META_EVENT_TYPES as readonly string[]).includes(type);
}

/** The domain segment of a type: `kyc` for `kyc.vies_check_failed`. */
export function eventDomain(type: string): string {
  const dot = type.indexOf(".");
  return dot < 0 ? type : type.slice(0, dot);
}

/** Every domain that has at least one event type; the segment wildcards allowed. */
export const EVENT_DOMAINS: readonly string[] = [...new Set(EVENT_TYPES.map(eventDomain))];
