import { z } from "zod";
import { boolVar, commonEnv, intVar, parseEnv, pipelineEnv, stringVar } from "@novatrade/service-runtime";

/** admin configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      ...pipelineEnv,
      /** Interface and port of the ops server (/metrics and /healthz for Prometheus). */
      ADMIN_OPS_HOST: stringVar("127.0.0.1"),
      ADMIN_OPS_PORT: intVar(9404),
      /** Interface and port of the admin HTTP API. */
      ADMIN_HTTP_HOST: stringVar("127.0.0.1"),
      ADMIN_HTTP_PORT: intVar(8080),
      /** Largest request body accepted, in bytes; larger ones get 413. */
      ADMIN_BODY_LIMIT_BYTES: intVar(64 * 1024, 1024),
      /**
       * An operator key accepted as is (at least 32 characters), to create the first keys of a
       * fresh installation. Empty: none; operators then use keys made with one.
       */
      ADMIN_BOOTSTRAP_OPERATOR_KEY: z
        .string()
        .default("")
        .refine((value) => value === "" || value.length >= 32, "must be at least 32 characters (or empty)"),
      /** PostgreSQL holding the projector's history tables and the admin's keys and jobs. */
      DATABASE_URL: z.string().url().default("postgres://novatrade:novatrade@127.0.0.1:15432/novatrade"),
      /** PostgreSQL schema of those tables. */
      ADMIN_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default("public"),
      /** 32 random bytes, base64: the key that seals endpoint secrets (the senders' key). */
      ENDPOINT_SECRETS_KEY: z.string().min(1),
      /** Development only: accept http:// endpoint URLs. */
      ENDPOINT_ALLOW_HTTP: boolVar(false),
      /** Development only: accept loopback endpoint addresses. */
      ENDPOINT_ALLOW_LOOPBACK: boolVar(false),
      /** Development only: accept private-network endpoint addresses. */
      ENDPOINT_ALLOW_PRIVATE: boolVar(false),
      /** How long the old secret keeps signing after a rotation unless the request says, in hours. */
      ADMIN_SECRET_OVERLAP_HOURS: intVar(24),
      /** Largest page of a list route. */
      ADMIN_PAGE_LIMIT_MAX: intVar(500, 1),
      /** How often a running replay job writes its progress, in records. */
      ADMIN_REPLAY_CHECKPOINT_RECORDS: intVar(500, 1),
    },
    env,
  );
}

export type AdminConfig = ReturnType<typeof loadConfig>;
