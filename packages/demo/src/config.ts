import { z } from "zod";
import { commonEnv, intVar, parseEnv, pipelineEnv, stringVar } from "@novatrade/service-runtime";

/** `make demo`'s configuration; scripts/demo.sh fills it from the running `make run`. */
export function loadDemoConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      ...pipelineEnv,
      /** An operator key of the running admin API; the demo registers its endpoint through it. */
      ADMIN_BOOTSTRAP_OPERATOR_KEY: z.string().min(1, "is required (make run keeps it in .local/admin-operator.key)"),
      /** Port of the running admin API on 127.0.0.1. */
      ADMIN_HTTP_PORT: intVar(8080, 1),
      /** Interface of the sample receiver. */
      DEMO_RECEIVER_HOST: stringVar("127.0.0.1"),
      /** Port of the sample receiver; 0 picks a free one. */
      DEMO_RECEIVER_PORT: intVar(0, 0),
      /** How long to wait for all ten event types, in milliseconds. */
      DEMO_TIMEOUT_MS: intVar(90_000, 1_000),
      /** How often the first event is sent again until the dispatcher has picked up the new endpoint, in milliseconds. */
      DEMO_PROBE_INTERVAL_MS: intVar(2_000, 100),
      /** Organization the demo's endpoint and events belong to; a fresh one per run when unset. */
      DEMO_ORGANIZATION_UUID: z.string().uuid().optional(),
    },
    env,
  );
}

export type DemoConfig = ReturnType<typeof loadDemoConfig>;
