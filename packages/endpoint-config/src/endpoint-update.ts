import { NovatradeError } from "@novatrade/domain";
import type { EndpointConfigPublisher } from "./endpoint-config-publisher.js";
import type { EndpointDirectory } from "./endpoint-directory.js";
import type { EndpointConfig } from "./endpoint-record.js";

/**
 * The endpoint changed (or was deleted) between reading it and writing the change: this change
 * was not applied. Read the endpoint again and retry.
 */
export class ConcurrentEndpointChangeError extends NovatradeError {
  readonly code = "ERR_ENDPOINT_CHANGED_CONCURRENTLY";
  constructor(
    readonly endpointId: string,
    readonly expectedRevision: number,
    /** The revision in effect now; null once the endpoint is deleted. */
    readonly currentRevision: number | null,
  ) {
    super(
      `endpoint ${endpointId} changed concurrently (expected revision ${expectedRevision}, ` +
        `${currentRevision === null ? "it was deleted" : `now ${currentRevision}`}); this change was not applied, retry`,
      { retriable: true },
    );
  }
}

/** No such endpoint (never registered, or deleted). */
export class EndpointNotFoundError extends NovatradeError {
  readonly code = "ERR_ENDPOINT_NOT_FOUND";
  constructor(readonly endpointId: string, readonly deleted: boolean) {
    super(deleted ? `endpoint ${endpointId} was deleted` : `no endpoint ${endpointId}`, { retriable: false });
  }
}

/** Where endpoint configurations are read and written; `endpointStore` is the Kafka one. */
export interface EndpointStore {
  /** The endpoint's configuration as of the end of the store now; undefined when unknown or deleted. */
  latest(endpointId: string): Promise<{ config: EndpointConfig | undefined; deleted: boolean }>;
  /**
   * Appends a configuration and resolves once read back: `applied` when readers took it as the
   * endpoint's configuration, `superseded` when another change came first, `revived` when it
   * landed after a deletion (and so brought the endpoint back).
   */
  append(config: EndpointConfig): Promise<"applied" | "superseded" | "revived">;
  /** Deletes the endpoint (after a change that was applied over a concurrent deletion). */
  remove(endpointId: string): Promise<void>;
}

/**
 * Changes an endpoint with compare-and-set on its revision, for every writer (the admin service,
 * which the ops CLI and the demo call, and the projector's auto-pause):
 *
 *   const paused = await updateEndpoint(store, endpointId, seen.revision, (current) => withStatus(current, "PAUSED", now));
 *
 * `change` gets the current configuration and returns the next one, with revision
 * `expectedRevision + 1` (withStatus and rotateSecret do that). The change is applied only if
 * the endpoint is still at `expectedRevision` when it is read and when the write lands: of two
 * writers that read the same revision, the one written first wins and the other gets
 * ConcurrentEndpointChangeError, so a rotate-secret racing a pause can no longer lose the new
 * secret silently.
 *
 * @throws EndpointNotFoundError when the endpoint does not exist (or was deleted).
 * @throws ConcurrentEndpointChangeError (retriable) when another change came first: read the
 * endpoint again and retry.
 */
export async function updateEndpoint(
  store: EndpointStore,
  endpointId: string,
  expectedRevision: number,
  change: (current: EndpointConfig) => EndpointConfig,
): Promise<EndpointConfig> {
  const { config: current, deleted } = await store.latest(endpointId);
  if (!current) throw new EndpointNotFoundError(endpointId, deleted);
  if (current.revision !== expectedRevision) throw new ConcurrentEndpointChangeError(endpointId, expectedRevision, current.revision);
  const next = change(current);
  if (next.endpointId !== endpointId || next.revision !== expectedRevision + 1) {
    throw new NovatradeError(`a change of ${endpointId} must keep its id and have revision ${expectedRevision + 1} (got ${next.endpointId} revision ${next.revision})`);
  }
  const outcome = await store.append(next);
  if (outcome === "applied") return next;
  if (outcome === "revived") {
    // Deleted meanwhile: our record brought the endpoint back, so delete it again.
    await store.remove(endpointId);
    throw new ConcurrentEndpointChangeError(endpointId, expectedRevision, null);
  }
  const now = await store.latest(endpointId);
  throw new ConcurrentEndpointChangeError(endpointId, expectedRevision, now.config?.revision ?? null);
}

/** The Kafka store: appends with the publisher, reads back with a started endpoint view. */
export function endpointStore(
  publisher: Pick<EndpointConfigPublisher, "put" | "remove">,
  view: Pick<EndpointDirectory, "catchUp" | "waitForPosition" | "sourceOf" | "get" | "isDeleted">,
): EndpointStore {
  return {
    async latest(endpointId) {
      await view.catchUp();
      return { config: view.get(endpointId), deleted: view.isDeleted(endpointId) };
    },
    async append(config) {
      const position = await publisher.put(config);
      await view.waitForPosition(position);
      const source = view.sourceOf(config.endpointId);
      if (source?.partition !== position.partition || source.offset !== position.offset) return "superseded";
      return source.afterDeletion ? "revived" : "applied";
    },
    remove: (endpointId) => publisher.remove(endpointId),
  };
}
