import { z } from "zod";
import type { EndpointConfig } from "@novatrade/endpoint-config";

/** RFC 9457 problem document (every 4xx/5xx answer). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    field: z.string().optional().describe("The offending input field, when there is one"),
    errors: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
  })
  .describe("application/problem+json (RFC 9457)");

/** The error answers every authenticated route can give. */
export const errorResponses = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  413: problemSchema,
} as const;

export const uuidSchema = z.string().uuid();
export const endpointIdParams = z.object({ endpointId: z.string().min(1).max(100) }).strict();

export const endpointSchema = z.object({
  endpointId: z.string(),
  organizationUuid: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  partnerIds: z.array(z.string()).nullable(),
  acceptedSchemaVersions: z.array(z.number().int()),
  status: z.enum(["ACTIVE", "PAUSED", "DISABLED"]),
  maxInFlight: z.number().int(),
  rateLimitPerSecond: z.number().int().nullable(),
  secrets: z.array(z.object({ secretId: z.string(), notBefore: z.string(), expiresAt: z.string().nullable() })),
  createdAt: z.string(),
  updatedAt: z.string(),
  revision: z.number().int(),
});

export type EndpointBody = z.infer<typeof endpointSchema>;

/** An endpoint as the API shows it: never a sealed or plaintext secret. */
export function endpointBody(config: EndpointConfig): EndpointBody {
  return {
    endpointId: config.endpointId,
    organizationUuid: config.organizationUuid,
    url: config.url,
    description: config.description,
    eventTypes: config.eventTypes,
    partnerIds: config.partnerIds,
    acceptedSchemaVersions: config.acceptedSchemaVersions,
    status: config.status,
    maxInFlight: config.maxInFlight,
    rateLimitPerSecond: config.rateLimitPerSecond,
    secrets: config.secrets.map((secret) => ({
      secretId: secret.secretId,
      notBefore: new Date(secret.notBefore).toISOString(),
      expiresAt: secret.expiresAt === null ? null : new Date(secret.expiresAt).toISOString(),
    })),
    createdAt: new Date(config.createdAt).toISOString(),
    updatedAt: new Date(config.updatedAt).toISOString(),
    revision: config.revision,
  };
}

const endpointFields = {
  url: z.string().min(1).max(2048).describe("https URL; SPEC §7 address rules apply"),
  description: z.string().max(500).optional(),
  eventTypes: z.array(z.string().min(1).max(100)).min(1).max(50).describe("exact types or segment wildcards (kyc.*); never *"),
  partnerIds: z.array(z.string()).max(1000).nullable().optional().describe("partner UUIDs; null = all partners"),
  acceptedSchemaVersions: z.array(z.number().int()).min(1).max(20).optional(),
  maxInFlight: z.number().int().optional(),
  rateLimitPerSecond: z.number().int().nullable().optional(),
};

export const createEndpointBody = z.object(endpointFields).strict();
export const updateEndpointBody = z
  .object({ ...endpointFields, url: endpointFields.url.optional(), eventTypes: endpointFields.eventTypes.optional() })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "at least one field to change is required" });

/** An ISO 8601 instant with a zone, as epoch milliseconds. */
export const instantSchema = z
  .string()
  .datetime({ offset: true })
  .transform((text) => Date.parse(text));

export const pageLimit = (max: number) => z.coerce.number().int().min(1).max(max).default(Math.min(50, max));

export const jobSchema = z.object({
  jobId: z.string(),
  kind: z.enum(["delivery", "range", "backfill"]),
  state: z.enum(["queued", "running", "succeeded", "failed"]),
  endpointId: z.string(),
  params: z.record(z.unknown()),
  total: z.number().int(),
  scanned: z.number().int(),
  requeued: z.number().int(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const deliverySchema = z.object({
  deliveryId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  endpointId: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  firstAttemptedAt: z.string(),
  lastAttemptedAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastErrorClass: z.string().nullable(),
  replayId: z.string().nullable().describe("the replay (rpl_) or test (tst_) that produced it; null for live deliveries"),
});

export const attemptSchema = z.object({
  attempt: z.number().int(),
  result: z.string(),
  statusCode: z.number().int().nullable(),
  errorClass: z.string().nullable(),
  errorMessage: z.string().nullable(),
  latencyMs: z.number().nullable(),
  responseBody: z.string().nullable().describe("kept response bytes (truncated)"),
  attemptedAt: z.string(),
});

export const keySchema = z.object({
  keyId: z.string(),
  prefix: z.string().describe("shown instead of the key, which is never stored"),
  kind: z.enum(["organization", "operator"]),
  organizationUuid: z.string().nullable(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
