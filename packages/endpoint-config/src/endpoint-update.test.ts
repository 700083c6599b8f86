import { describe, expect, test } from "vitest";
import type { EndpointConfig } from "./endpoint-record.js";
import { registerEndpoint, withStatus } from "./endpoint-registration.js";
import { SecretBox } from "./secret-box.js";
import { ConcurrentEndpointChangeError, EndpointNotFoundError, updateEndpoint, type EndpointStore } from "./endpoint-update.js";

const secretBox = SecretBox.fromBase64Key(Buffer.alloc(32, 3).toString("base64"));
const NOW = 1_780_000_000_000;

function endpoint(): EndpointConfig {
  return registerEndpoint(
    { organizationUuid: "550e8400-e29b-41d4-a716-446655440000", url: "https://example.com/hook", eventTypes: ["kyc.*"] },
    { secretBox, now: NOW, urlPolicy: { allowHttp: false, allowLoopback: false, allowPrivate: false }, newEndpointId: () => "ep_0123456789abcdef0123456789abcdef" },
  ).config;
}

/**
 * The topic as readers apply it: a record counts only when its revision is newer than the one
 * in effect. `race` is written by another writer just before our record lands.
 */
function memoryStore(initial: EndpointConfig | null, race?: EndpointConfig | null) {
  const log: Array<EndpointConfig | { tombstone: string }> = [];
  let current = initial;
  let deleted = initial === null;
  const apply = (record: EndpointConfig | null): "applied" | "superseded" | "revived" => {
    if (record === null) {
      current = null;
      deleted = true;
      return "applied";
    }
    if (current && current.revision >= record.revision) return "superseded";
    const revived = current === null && deleted;
    current = record;
    deleted = false;
    return revived ? "revived" : "applied";
  };
  const store: EndpointStore = {
    latest: async () => ({ config: current ?? undefined, deleted }),
    append: async (config) => {
      if (race !== undefined) {
        log.push(race ?? { tombstone: config.endpointId });
        apply(race);
      }
      log.push(config);
      return apply(config);
    },
    remove: async (endpointId) => {
      log.push({ tombstone: endpointId });
      apply(null);
    },
  };
  return { store, log, current: () => current };
}

describe("updateEndpoint", () => {
  test("applies a change made on the current revision", async () => {
    const start = endpoint();
    const { store, current } = memoryStore(start);
    const paused = await updateEndpoint(store, start.endpointId, 1, (latest) => withStatus(latest, "PAUSED", NOW + 1));
    expect(paused).toMatchObject({ status: "PAUSED", revision: 2 });
    expect(current()).toEqual(paused);
  });

  test("a stale expected revision is refused before anything is written", async () => {
    const start = { ...endpoint(), revision: 3 };
    const { store, log } = memoryStore(start);
    const attempt = updateEndpoint(store, start.endpointId, 2, (latest) => withStatus(latest, "PAUSED", NOW));
    await expect(attempt).rejects.toThrow(ConcurrentEndpointChangeError);
    await expect(attempt).rejects.toThrow("expected revision 2, now 3");
    expect(log).toEqual([]);
  });

  test("a writer that lost the race (same revision written first by another) gets a retriable conflict", async () => {
    const start = endpoint();
    const other = withStatus(start, "DISABLED", NOW);
    const { store, current } = memoryStore(start, other);
    const attempt = updateEndpoint(store, start.endpointId, 1, (latest) => withStatus(latest, "PAUSED", NOW));
    await expect(attempt).rejects.toMatchObject({ name: "ConcurrentEndpointChangeError", retriable: true, currentRevision: 2 });
    expect(current()).toEqual(other);
  });

  test("a change that landed after a concurrent deletion deletes the endpoint again", async () => {
    const start = endpoint();
    const { store, log, current } = memoryStore(start, null);
    const attempt = updateEndpoint(store, start.endpointId, 1, (latest) => withStatus(latest, "PAUSED", NOW));
    await expect(attempt).rejects.toMatchObject({ name: "ConcurrentEndpointChangeError", currentRevision: null });
    expect(current()).toBeNull();
    expect(log.at(-1)).toEqual({ tombstone: start.endpointId });
  });

  test("an unknown or deleted endpoint is not found", async () => {
    const { store } = memoryStore(null);
    await expect(updateEndpoint(store, "ep_gone", 1, (latest) => latest)).rejects.toThrow(EndpointNotFoundError);
  });

  test("a change must be exactly one revision on", async () => {
    const start = endpoint();
    const { store } = memoryStore(start);
    await expect(updateEndpoint(store, start.endpointId, 1, (latest) => ({ ...latest, revision: 5 }))).rejects.toThrow(/must keep its id and have revision 2/);
  });
});
