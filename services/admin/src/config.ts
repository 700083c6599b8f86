import { commonEnv, intVar, parseEnv, stringVar } from "@novatrade/service-runtime";

/** admin configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      /** Interface and port of /metrics and /healthz. */
      ADMIN_OPS_HOST: stringVar("127.0.0.1"),
      ADMIN_OPS_PORT: intVar(9404),
    },
    env,
  );
}

export type AdminConfig = ReturnType<typeof loadConfig>;
