import { AdminClient } from "@novatrade/ops-cli";

/** What the demo needs from endpoint management: the admin API's operations, nothing of its own. */
export interface DemoEndpoints {
  /** Registers an endpoint of the organization; the answer carries its signing secret, once. */
  create(organizationUuid: string, input: { url: string; description: string; eventTypes: string[] }): Promise<{ endpointId: string; secret: string; eventTypes: string[] }>;
  remove(organizationUuid: string, endpointId: string): Promise<void>;
  /** The organization's endpoints. */
  list(organizationUuid: string): Promise<Array<{ endpointId: string; description: string }>>;
  /** Pauses an endpoint, saying why (the portal shows who paused it and the reason). */
  pause(organizationUuid: string, endpointId: string, reason: string): Promise<void>;
  /** A short-lived link that signs in to the portal as the organization, opening on the endpoint. */
  portalLink(organizationUuid: string, endpointId: string): Promise<string>;
}

export interface AdminEndpointsOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** An operator key (make run's bootstrap key): it acts for any organization. */
  operatorKey: string;
  fetch?: typeof fetch;
}

/**
 * The demo's endpoints through the admin API (`POST` / `DELETE /v1/endpoints`), with an operator
 * key acting for the demo's organization: the same validation and compare-and-set writes as the
 * ops CLI, because the demo must not be a third way of writing the endpoint-config topic.
 */
export function adminEndpoints(options: AdminEndpointsOptions): DemoEndpoints {
  const client = (organizationUuid: string) =>
    new AdminClient({ baseUrl: options.baseUrl, apiKey: options.operatorKey, organizationUuid, ...(options.fetch ? { fetch: options.fetch } : {}) });
  return {
    async create(organizationUuid, input) {
      return (await client(organizationUuid).call("POST", "/v1/endpoints", input)).body;
    },
    async remove(organizationUuid, endpointId) {
      await client(organizationUuid).call("DELETE", `/v1/endpoints/${encodeURIComponent(endpointId)}`);
    },
    async list(organizationUuid) {
      return (await client(organizationUuid).call("GET", "/v1/endpoints")).body.data;
    },
    async pause(organizationUuid, endpointId, reason) {
      await client(organizationUuid).call("POST", `/v1/endpoints/${encodeURIComponent(endpointId)}/pause`, { reason });
    },
    async portalLink(organizationUuid, endpointId) {
      return (await client(organizationUuid).call("POST", "/v1/portal-links", { organizationUuid, endpointId })).body.url;
    },
  };
}
