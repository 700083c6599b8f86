/**
 * TypeScript shapes of the internal topics' records, as RecordCodec reads and writes them.
 * They mirror schemas/internal/*.avsc (a unit test keeps field names in step). Instants are
 * numbers of milliseconds since the epoch; optional Avro fields (those with a default) may be
 * left out when encoding.
 */

export interface DeliveryRequestRecord {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  organizationUuid: string;
  partnerUuid: string | null;
  /** Schema version `body` was rendered in. */
  schemaVersion: number;
  /** The rendered JSON envelope: exactly the bytes that are signed and sent. */
  body: string;
  /** 1-based. */
  attempt: number;
  /** Delays between attempts, in milliseconds. */
  retrySchedule: number[];
  /** Epoch milliseconds; null before the first attempt. */
  firstAttemptAt: number | null;
  /** Epoch milliseconds. */
  notBefore: number;
  isMeta: boolean;
  replayId?: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
}

export type DeliveryResult = "SUCCEEDED" | "FAILED_RETRYING" | "FAILED_TERMINAL" | "SKIPPED";

export interface DeliveryOutcomeRecord {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  organizationUuid: string;
  /** 1-based; 0 when nothing was attempted (SKIPPED). */
  attempt: number;
  result: DeliveryResult;
  statusCode: number | null;
  /** Milliseconds. */
  latencyMs: number | null;
  responseBody: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  /** Epoch milliseconds. */
  attemptedAt: number;
  /** Epoch milliseconds. */
  nextAttemptAt: number | null;
  replayId?: string | null;
}

export interface EndpointSecretRecord {
  secretId: string;
  /** The whsec_ secret encrypted at rest; never the plaintext. */
  ciphertext: string;
  /** Epoch milliseconds. */
  notBefore: number;
  /** Epoch milliseconds; null = no expiry. */
  expiresAt?: number | null;
}

export type EndpointStatus = "ACTIVE" | "PAUSED" | "DISABLED";

export interface EndpointConfigRecord {
  endpointId: string;
  organizationUuid: string;
  url: string;
  description?: string;
  eventTypes: string[];
  /** null = all partners. */
  partnerIds?: string[] | null;
  acceptedSchemaVersions: number[];
  secrets: EndpointSecretRecord[];
  status: EndpointStatus;
  maxInFlight?: number;
  rateLimitPerSecond?: number | null;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds. */
  updatedAt: number;
  revision: number;
}

export interface DeadLetterHeaderRecord {
  key: string;
  value?: Buffer | null;
}

export interface DeadLetterRecord {
  originalTopic: string;
  originalPartition: number;
  originalOffset: number;
  /** Epoch milliseconds. */
  originalTimestamp?: number | null;
  key?: Buffer | null;
  value: Buffer | null;
  headers?: DeadLetterHeaderRecord[];
  reason: string;
  errorClass: string;
  failedBy: string;
  /** Epoch milliseconds. */
  failedAt: number;
}

/** Internal record types by schema name (the file name under schemas/internal/). */
export interface InternalRecords {
  "delivery-request": DeliveryRequestRecord;
  "delivery-outcome": DeliveryOutcomeRecord;
  "endpoint-config": EndpointConfigRecord;
  "dead-letter": DeadLetterRecord;
}

export type InternalRecordName = keyof InternalRecords;

/** A record as decoded: every field present, defaults filled in. */
export type Complete<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
