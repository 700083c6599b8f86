import { randomBytes as cryptoRandomBytes, randomUUID } from "node:crypto";
import {
  generateSecret,
  isUuid,
  validateAcceptedSchemaVersions,
  validateEndpointUrl,
  validateEventTypePatterns,
  validatePartnerIds,
  ValidationError,
} from "@novatrade/domain";
import type { EndpointConfig } from "./endpoint-record.js";
import type { SecretBox } from "./secret-box.js";

/** What an integrator or operator asks for when registering an endpoint. */
export interface EndpointRegistration {
  organizationUuid: string;
  url: string;
  description?: string;
  eventTypes: string[];
  partnerIds?: string[] | null;
  acceptedSchemaVersions?: number[];
  maxInFlight?: number;
  rateLimitPerSecond?: number | null;
}

export interface RegistrationDeps {
  secretBox: SecretBox;
  /** Epoch milliseconds. */
  now: number;
  /** Development and tests only: http:// URLs, loopback and private-network hosts. */
  urlPolicy: { allowHttp: boolean; allowLoopback: boolean; allowPrivate: boolean };
  newEndpointId?: () => string;
  randomBytes?: (size: number) => Buffer;
}

export const DEFAULT_MAX_IN_FLIGHT = 10;
const MAX_IN_FLIGHT_LIMIT = 200;

/**
 * Validates a registration and builds the endpoint's first record with a fresh signing secret.
 * The plaintext secret is returned once, to be shown to the integrator, and stored only sealed.
 * @throws ValidationError naming the first bad field; nothing is created.
 */
export function registerEndpoint(
  input: EndpointRegistration,
  deps: RegistrationDeps,
): { config: EndpointConfig; plaintextSecret: string } {
  if (!isUuid(input.organizationUuid)) throw new ValidationError("organizationUuid", "must be a UUID");
  const url = validateEndpointUrl(input.url, deps.urlPolicy);
  const eventTypes = validateEventTypePatterns(input.eventTypes);
  const partnerIds = validatePartnerIds(input.partnerIds ?? null);
  const acceptedSchemaVersions = validateAcceptedSchemaVersions(input.acceptedSchemaVersions ?? [1]);
  const description = input.description ?? "";
  if (typeof description !== "string" || description.length > 500) {
    throw new ValidationError("description", "must be a string of at most 500 characters");
  }
  const maxInFlight = input.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT_LIMIT) {
    throw new ValidationError("maxInFlight", `must be an integer from 1 to ${MAX_IN_FLIGHT_LIMIT}`);
  }
  const rateLimitPerSecond = input.rateLimitPerSecond ?? null;
  if (rateLimitPerSecond !== null && (!Number.isInteger(rateLimitPerSecond) || rateLimitPerSecond < 1)) {
    throw new ValidationError("rateLimitPerSecond", "must be a positive integer or null");
  }
  const endpointId = (deps.newEndpointId ?? (() => `ep_${randomUUID().replaceAll("-", "")}`))();
  const plaintextSecret = generateSecret((deps.randomBytes ?? cryptoRandomBytes)(32));
  const config: EndpointConfig = {
    endpointId,
    organizationUuid: input.organizationUuid.toLowerCase(),
    url: url.toString(),
    description,
    eventTypes,
    partnerIds,
    acceptedSchemaVersions,
    secrets: [
      {
        secretId: `sec_${endpointId.slice(-8)}_1`,
        ciphertext: deps.secretBox.seal(plaintextSecret, endpointId),
        notBefore: deps.now,
        expiresAt: null,
      },
    ],
    status: "ACTIVE",
    maxInFlight,
    rateLimitPerSecond,
    createdAt: deps.now,
    updatedAt: deps.now,
    revision: 1,
  };
  return { config, plaintextSecret };
}

/**
 * Adds a new secret; the current ones keep signing for `overlapMs` so receivers can switch
 * without a gap (both `v1=` values are sent meanwhile).
 */
export function rotateSecret(
  config: EndpointConfig,
  deps: { secretBox: SecretBox; now: number; overlapMs: number; randomBytes?: (size: number) => Buffer },
): { config: EndpointConfig; plaintextSecret: string } {
  const plaintextSecret = generateSecret((deps.randomBytes ?? cryptoRandomBytes)(32));
  const expiresAt = deps.now + deps.overlapMs;
  const kept = config.secrets
    .filter((secret) => secret.expiresAt === null || secret.expiresAt > deps.now)
    .map((secret) => ({ ...secret, expiresAt: secret.expiresAt === null ? expiresAt : Math.min(secret.expiresAt, expiresAt) }));
  const next = {
    secretId: `sec_${config.endpointId.slice(-8)}_${config.revision + 1}`,
    ciphertext: deps.secretBox.seal(plaintextSecret, config.endpointId),
    notBefore: deps.now,
    expiresAt: null,
  };
  return {
    config: { ...config, secrets: [...kept, next], updatedAt: deps.now, revision: config.revision + 1 },
    plaintextSecret,
  };
}

/** A new revision with another status (pause, resume, disable). */
export function withStatus(config: EndpointConfig, status: EndpointConfig["status"], now: number): EndpointConfig {
  return { ...config, status, updatedAt: now, revision: config.revision + 1 };
}
