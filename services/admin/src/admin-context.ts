import type { Registry } from "prom-client";
import type { ApiKeyStore } from "./api-key-store.js";
import type { CatalogDocument } from "./catalog-document.js";
import type { EndpointHealthStore } from "./endpoint-health-store.js";
import type { EndpointOperations } from "./endpoint-operations.js";
import type { FeedsStore } from "./feeds-store.js";
import type { HistoryStore } from "./history-store.js";
import type { AdminMetrics } from "./metrics.js";
import type { ReplayJobStore } from "./replay-job-store.js";
import type { ReplayRunner } from "./replay-runner.js";
import type { PortalSigner } from "./portal/portal-session.js";

/** What the routes use; built once in admin-app.ts. */
export interface AdminContext {
  keys: ApiKeyStore;
  endpoints: EndpointOperations;
  history: HistoryStore;
  health: EndpointHealthStore;
  catalog: CatalogDocument;
  feeds: FeedsStore;
  jobs: ReplayJobStore;
  runner: Pick<ReplayRunner, "enqueue">;
  registry: Registry;
  metrics: AdminMetrics;
  /** Ready to serve: the endpoint view is current and PostgreSQL answers. */
  isReady: () => Promise<boolean>;
  portal: {
    signer: PortalSigner;
    /** How long a session lasts, in minutes. */
    sessionMinutes: number;
    /** Default lifetime of a portal link, in minutes. */
    linkMinutes: number;
    /** Base URL of the links; empty: the address a request came to. */
    publicUrl: string;
  };
  /** Largest page of a list route. */
  pageLimitMax: number;
  /** Largest request body, in bytes. */
  bodyLimitBytes: number;
}
