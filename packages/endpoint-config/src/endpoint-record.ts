import type { EndpointStatus, EndpointSubscription } from "@novatrade/domain";

/** One signing secret of an endpoint, sealed with SecretBox; never held in plaintext at rest. */
export interface EndpointSecret {
  secretId: string;
  /** `SecretBox.seal` output. */
  ciphertext: string;
  /** From when this secret signs, epoch milliseconds. */
  notBefore: number;
  /** Until when it signs (rotation overlap), epoch milliseconds; null = until replaced. */
  expiresAt: number | null;
}

/**
 * An endpoint's full record, as kept on the compacted endpoint-configuration topic (keyed by
 * endpoint id, one record = the whole current state, a tombstone on delete).
 */
export interface EndpointConfig extends EndpointSubscription {
  url: string;
  description: string;
  eventTypes: string[];
  partnerIds: string[] | null;
  acceptedSchemaVersions: number[];
  secrets: EndpointSecret[];
  status: EndpointStatus;
  /** Attempts in flight at once for this endpoint. */
  maxInFlight: number;
  /** Attempts started per second at most; null = no limit beyond maxInFlight. */
  rateLimitPerSecond: number | null;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Increases with every change, so a reader can ignore an older record arriving late. */
  revision: number;
}

/** The secrets that sign at `nowMs`: during a rotation, the old and the new one. */
export function signingSecrets(config: Pick<EndpointConfig, "secrets">, nowMs: number): EndpointSecret[] {
  return config.secrets.filter((secret) => secret.notBefore <= nowMs && (secret.expiresAt === null || secret.expiresAt > nowMs));
}
