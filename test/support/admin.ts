import { pino } from "pino";
import { Registry } from "prom-client";
import type { StopFunction } from "@novatrade/service-runtime";
import { loadConfig } from "../../services/admin/src/config.js";
import { startAdmin, type AdminApp } from "../../services/admin/src/admin-app.js";
import { infraEnv } from "./infra-env.js";
import type { Pipeline } from "./pipeline.js";

/** The data of a valid kyc.vies_check_failed event, for publishing in admin tests. */
export const VIES = { buyerId: "b-1", companyName: "Acme GmbH", countryCode: "DE", vatNumber: "DE123456789", checkedAt: "2026-11-25T10:00:00Z", lastValidAt: null, viesRequestIdentifier: null, openOrderIds: ["o-1"] };

/** The operator key the test admins accept from configuration. */
export const TEST_BOOTSTRAP_KEY = "test-bootstrap-operator-key-0123456789abcdef";

export interface TestAdmin {
  app: AdminApp;
  url: string;
  stop(): Promise<void>;
}

/** The admin's environment on a pipeline's topics and a database schema of the test's own. */
export function adminEnv(pipeline: Pipeline, schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...pipeline.env,
    DATABASE_URL: infraEnv.databaseUrl,
    ADMIN_DATABASE_SCHEMA: schema,
    ADMIN_HTTP_PORT: "0",
    ADMIN_OPS_PORT: "0",
    ADMIN_BOOTSTRAP_OPERATOR_KEY: TEST_BOOTSTRAP_KEY,
    ENDPOINT_ALLOW_HTTP: "true",
    ENDPOINT_ALLOW_LOOPBACK: "true",
    ...extra,
  };
}

/** The admin in this test process: the same startAdmin wiring as its main.ts. */
export async function startTestAdmin(env: Record<string, string>): Promise<TestAdmin> {
  const stops: StopFunction[] = [];
  const app = await startAdmin(loadConfig(env), {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    registry: new Registry(),
    onStop: (stop) => stops.push(stop),
  });
  return {
    app,
    url: app.url,
    stop: async () => {
      for (const stop of stops.splice(0).reverse()) await stop();
    },
  };
}

export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  contentType: string;
}

/** A small client of the admin API for tests: JSON in, JSON (or problem+json) out. */
export function apiClient(baseUrl: string, key?: string, extraHeaders: Record<string, string> = {}) {
  return async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...extraHeaders,
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // not JSON (metrics): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T, contentType: response.headers.get("content-type") ?? "" };
  };
}

/** Creates an organization key with the bootstrap operator key. */
export async function organizationKey(baseUrl: string, organizationUuid: string, name = "test"): Promise<{ key: string; keyId: string }> {
  const answer = await apiClient(baseUrl, TEST_BOOTSTRAP_KEY)("POST", "/v1/keys", { name, kind: "organization", organizationUuid });
  if (answer.status !== 201) throw new Error(`creating a key failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { key: answer.body.key, keyId: answer.body.keyId };
}
