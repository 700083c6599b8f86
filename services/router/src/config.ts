import { z } from "zod";
import { commonEnv, intVar, parseEnv, pipelineEnv, stringVar } from "@novatrade/service-runtime";

/** Router configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      ...pipelineEnv,
      /** Consumer group of all router instances on the domain topic. */
      ROUTER_GROUP_ID: z.string().min(1).optional(),
      ROUTER_OPS_HOST: stringVar("127.0.0.1"),
      ROUTER_OPS_PORT: intVar(9401),
    },
    env,
  );
}

export type RouterConfig = ReturnType<typeof loadConfig>;
