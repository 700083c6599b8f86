import { ValidationError } from "@novatrade/domain";

/**
 * Largest JSON body delivered to an endpoint, in bytes (256 KiB). SPEC §7: events are small;
 * the body is about a quarter larger than the Avro event, and a delivery request carrying more
 * than the broker's 1 MiB record limit could never be written. The producer library refuses
 * larger events up front; the router dead-letters any that arrive anyway (reason `too_large`).
 */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

/** The event's JSON body (as delivered) is larger than MAX_EVENT_BODY_BYTES. Never retriable. */
export class EventTooLargeError extends ValidationError {
  /** The reason code in dead letters and logs. */
  readonly reason = "too_large";
  constructor(
    /** Size of the JSON body, in bytes. */
    readonly bodyBytes: number,
    /** The limit, in bytes. */
    readonly limitBytes: number,
  ) {
    super("body", `too_large: the event's JSON body is ${bodyBytes} bytes, more than the ${limitBytes} bytes (${limitBytes / 1024} KiB) an event may have`);
  }
}

/** @throws EventTooLargeError when `body` (the JSON delivered) is larger than the limit. */
export function assertDeliverableSize(body: string, limitBytes = MAX_EVENT_BODY_BYTES): void {
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes > limitBytes) throw new EventTooLargeError(bytes, limitBytes);
}
