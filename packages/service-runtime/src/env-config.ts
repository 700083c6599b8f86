import { z } from "zod";
import { ConfigError, parseRetrySchedule } from "@novatrade/domain";

/**
 * Parses a service's configuration once, at start-up, from environment variables. The schema's
 * keys are the variable names themselves (`SENDER_HTTP_TIMEOUT_MS`), so an error names exactly
 * the variable to fix.
 * @throws ConfigError listing every bad variable.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined>,
  refine?: (config: z.infer<z.ZodObject<Shape>>) => string[],
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const crossFieldProblems = refine?.(result.data) ?? [];
  if (crossFieldProblems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${crossFieldProblems.join("\n  ")}`);
  }
  return result.data;
}

/** An integer from an environment variable, with a default; `min` guards against nonsense. */
export function intVar(defaultValue: number, min = 0) {
  return z.coerce.number().int().min(min).default(defaultValue);
}

/** A comma-separated list such as `a:9092,b:9092`. */
export function listVar(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((value) => value.split(",").map((item) => item.trim()).filter((item) => item.length > 0))
    .refine((items) => items.length > 0, "must not be empty");
}

/** `true`/`false`/`1`/`0`, anything else is an error rather than a silent false. */
export function boolVar(defaultValue: boolean) {
  return z
    .enum(["true", "false", "1", "0"])
    .default(defaultValue ? "true" : "false")
    .transform((value) => value === "true" || value === "1");
}

export function stringVar(defaultValue: string) {
  return z.string().min(1).default(defaultValue);
}

/** Variables every service reads the same way: where Kafka, the registry and logs are. */
export const commonEnv = {
  KAFKA_BROKERS: listVar("127.0.0.1:19092"),
  SCHEMA_REGISTRY_URL: z.string().url().default("http://127.0.0.1:18081/apis/ccompat/v7"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Prefix of every topic name, so several installations can share one cluster. */
  TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/).default("novatrade.webhooks."),
  /**
   * How long a silent consumer keeps its partitions, in milliseconds. After a crash, that
   * member's partitions wait this long before another member takes them over.
   */
  KAFKA_SESSION_TIMEOUT_MS: intVar(30_000, 6_000),
  /**
   * Kafka client id; default `novatrade-<service>`. One per instance (a pod name) tells the
   * members of a consumer group apart: in the group's description, the broker's logs and the
   * `client_id` label of the Kafka metrics.
   */
  KAFKA_CLIENT_ID: z.string().regex(/^[a-zA-Z0-9._-]+$/).optional(),
  /** How often a service reads its consumer groups' lag (novatrade_kafka_consumer_lag_messages), in milliseconds. */
  KAFKA_LAG_INTERVAL_MS: intVar(30_000, 1_000),
  /** Domain topic name; upstream producers write here. */
  DOMAIN_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]+$/).default("novatrade.events"),
};

/** Delays between attempts, e.g. `5s,5m,30m,2h` (units ms, s, m, h). */
export function retryScheduleVar(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((text, context) => {
      try {
        return parseRetrySchedule(text, "RETRY_SCHEDULE");
      } catch (error) {
        context.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/** The default schedule of SPEC §4: ten attempts over about 72 hours. */
export const DEFAULT_RETRY_SCHEDULE_TEXT = "5s,5m,30m,2h,5h,10h,14h,20h,20h";

/** Variables the router and the senders must agree on. */
export const pipelineEnv = {
  /** Delays between attempts, stamped on every new delivery by the router; the sender reads one retry topic per distinct delay. */
  RETRY_SCHEDULE: retryScheduleVar(DEFAULT_RETRY_SCHEDULE_TEXT),
  /** Partitions of the shared topics created by the dispatcher (domain, outcomes, dead letters, retries). */
  TOPIC_PARTITIONS: intVar(6, 1),
  /** Partitions of each endpoint's delivery topic. */
  DELIVERY_TOPIC_PARTITIONS: intVar(1, 1),
};
