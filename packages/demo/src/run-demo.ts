import { randomUUID } from "node:crypto";
import { EVENT_DOMAINS, EVENT_TYPES, isMetaEventType, type EventType } from "@novatrade/domain";
import { sampleEvent } from "@novatrade/event-codec";
import type { EventProducer } from "@novatrade/producer";
import type { WebhookEvent } from "@novatrade/receiver";
import type { DemoEndpoints } from "./demo-endpoints.js";
import { startSampleReceiver } from "./sample-receiver.js";

/** How the demo recognises its own endpoints of earlier runs. */
export const DEMO_DESCRIPTION = "make demo sample receiver";

export interface DemoDependencies {
  /** Endpoint management: the admin API (adminEndpoints). */
  endpoints: DemoEndpoints;
  events: Pick<EventProducer, "publish">;
  print(line: string): void;
  /** Epoch milliseconds. */
  clock(): number;
  organizationUuid?: string;
  receiverHost: string;
  /** 0 picks a free port. */
  receiverPort: number;
  /** How long to wait for all ten types, in milliseconds. */
  timeoutMs: number;
  /** How often the first event is re-sent until the dispatcher has picked up the endpoint, in milliseconds. */
  probeIntervalMs: number;
}

export interface DemoResult {
  endpointId: string;
  organizationUuid: string;
  /** The first verified delivery of each type. */
  received: Map<EventType, WebhookEvent>;
  /** Deliveries the receiver refused (bad signature, stale timestamp): 0 in a healthy run. */
  rejected: number;
}

/** The demo did not see every event type in time; `missing` names those it did not get. */
export class DemoTimeoutError extends Error {
  override readonly name = "DemoTimeoutError";
  constructor(readonly missing: EventType[]) {
    super(`no verified delivery of ${missing.join(", ")} within the time allowed`);
  }
}

/**
 * `make demo`: a sample receiver verifying both signature schemes, an endpoint registered for
 * it through the admin API (every domain, by wildcard), and one event of each of the ten types produced to the domain
 * topic. Meta events (`webhook.*`) are produced the way the dispatcher itself produces them:
 * source SYSTEM, the owning organization. The endpoint is kept, paused (its receiver stops with
 * the demo), so the portal shows its deliveries; the demo's endpoints of earlier runs in the same
 * organization are deleted first, so reruns do not pile them up.
 */
export async function runDemo(deps: DemoDependencies): Promise<DemoResult> {
  const organizationUuid = deps.organizationUuid ?? randomUUID();
  const received = new Map<EventType, WebhookEvent>();
  let rejected = 0;
  let onProgress = () => {};
  const receiver = await startSampleReceiver({
    host: deps.receiverHost,
    port: deps.receiverPort,
    now: deps.clock,
    onEvent: (event) => {
      const first = !received.has(event.type as EventType);
      if (first) received.set(event.type as EventType, event);
      deps.print(`✓ verified  ${event.type.padEnd(34)} ${event.id}  source=${event.source}${first ? "" : "  (again)"}`);
      onProgress();
    },
    onRejected: (error) => {
      rejected++;
      deps.print(`✗ refused   ${error.reason}: ${error.message}`);
    },
  });
  let probe: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let endpointId: string | undefined;
  try {
    deps.print(`sample receiver on ${receiver.url}, verifying X-Novatrade-Signature and webhook-signature`);
    for (const earlier of await deps.endpoints.list(organizationUuid)) {
      if (earlier.description !== DEMO_DESCRIPTION) continue;
      await deps.endpoints.remove(organizationUuid, earlier.endpointId);
      deps.print(`endpoint ${earlier.endpointId} of an earlier demo run deleted`);
    }
    const created = await deps.endpoints.create(organizationUuid, {
      url: receiver.url,
      description: DEMO_DESCRIPTION,
      eventTypes: EVENT_DOMAINS.map((domain) => `${domain}.*`),
    });
    endpointId = created.endpointId;
    receiver.useSecret(created.secret);
    deps.print(`endpoint ${endpointId} registered for ${created.eventTypes.join(" ")} (organization ${organizationUuid})`);

    const publish = (type: EventType) =>
      deps.events.publish({
        type,
        organizationUuid,
        partnerUuid: null,
        source: isMetaEventType(type) ? "SYSTEM" : "WEB_APP",
        data: sampleEvent(type).data,
      });
    const [first, ...rest] = EVENT_TYPES;
    const allReceived = new Promise<void>((resolve, reject) => {
      deadline = setTimeout(() => reject(new DemoTimeoutError(EVENT_TYPES.filter((type) => !received.has(type)))), deps.timeoutMs);
      let restSent = false;
      onProgress = () => {
        // Nothing tells a producer when the router has read a new endpoint: the first event is
        // sent until one arrives (events routed before that matched no endpoint), then the rest.
        if (!restSent && received.size > 0) {
          restSent = true;
          clearInterval(probe);
          deps.print(`the dispatcher delivers to the new endpoint; producing the other ${rest.length} types`);
          Promise.all(rest.map(publish)).catch(reject);
        }
        if (received.size === EVENT_TYPES.length) resolve();
      };
    });
    deps.print(`producing ${first} until the dispatcher has picked up the endpoint`);
    const sendProbe = () => void publish(first!).catch((error: unknown) => deps.print(`produce failed: ${String(error)}`));
    sendProbe();
    probe = setInterval(sendProbe, deps.probeIntervalMs);
    await allReceived;
    deps.print(`all ${EVENT_TYPES.length} event types delivered, signed and verified (${rejected} refused)`);
    return { endpointId, organizationUuid, received, rejected };
  } finally {
    clearInterval(probe);
    clearTimeout(deadline);
    // Kept for the portal, paused: nothing is attempted against the receiver that stops here.
    if (endpointId !== undefined) await deps.endpoints.pause(organizationUuid, endpointId, "make demo finished: its receiver has stopped");
    await receiver.close();
  }
}
