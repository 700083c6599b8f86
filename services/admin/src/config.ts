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
      /**
       * 32 random bytes, base64: signs portal session cookies and portal links. Empty: a random
       * key per start (sessions and links then end when the admin restarts).
       */
      ADMIN_PORTAL_SECRET: z
        .string()
        .default("")
        .refine((value) => value === "" || Buffer.from(value, "base64").length >= 32, "must be at least 32 bytes, base64 (or empty)"),
      /** How long a portal session lasts after sign-in, in minutes. */
      ADMIN_PORTAL_SESSION_MINUTES: intVar(480, 1),
      /** How long a portal link can be used to sign in unless the operator asks otherwise, in minutes. */
      ADMIN_PORTAL_LINK_MINUTES: intVar(15, 1),
      /** Address the portal is reached at, for the links operators mint; empty: the address the request came to. */
      ADMIN_PORTAL_PUBLIC_URL: z.string().url().or(z.literal("")).default(""),
      /** How often a running replay job writes its progress, in records. */
      ADMIN_REPLAY_CHECKPOINT_RECORDS: intVar(500, 1),
    },
    env,
  );
}

export type AdminConfig = ReturnType<typeof loadConfig>;
