import { commonEnv, intVar, parseEnv, stringVar } from "@novatrade/service-runtime";

/** projector configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      /** Interface and port of /metrics and /healthz. */
      PROJECTOR_OPS_HOST: stringVar("127.0.0.1"),
      PROJECTOR_OPS_PORT: intVar(9403),
    },
    env,
  );
}

export type ProjectorConfig = ReturnType<typeof loadConfig>;
