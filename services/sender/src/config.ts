import { z } from "zod";
import { MAX_DELIVERY_SHARDS } from "@novatrade/domain";
import { boolVar, commonEnv, pipelineEnv, intVar, parseEnv, stringVar } from "@novatrade/service-runtime";

/** Sender configuration, parsed once in main.ts. */
export function loadConfig(env: Record<string, string | undefined>) {
  return parseEnv(
    {
      ...commonEnv,
      ...pipelineEnv,
      SENDER_GROUP_ID: z.string().min(1).optional(),
      /**
       * ± share of each retry delay drawn at random, so retries of one outage spread out. Capped
       * at 0.005 and 30 s whatever is set, so no retry runs more than 1 % (≤ 60 s) late.
       */
      SENDER_RETRY_JITTER_RATIO: z.coerce.number().min(0).max(0.5).default(0.005),
      /** Whole attempt, connect to the last response byte kept, in milliseconds. */
      SENDER_HTTP_TIMEOUT_MS: intVar(10_000, 100),
      /** TCP + TLS connect, in milliseconds. */
      SENDER_CONNECT_TIMEOUT_MS: intVar(5_000, 50),
      /** Response bytes kept in the history. */
      SENDER_MAX_RESPONSE_BYTES: intVar(4_096, 0),
      /** Attempts in flight in this process, all endpoints together. */
      SENDER_GLOBAL_MAX_IN_FLIGHT: intVar(500, 1),
      /** Attempts in flight of one organization at most; default half of SENDER_GLOBAL_MAX_IN_FLIGHT. */
      SENDER_ORGANIZATION_MAX_IN_FLIGHT: z.coerce.number().int().min(1).optional(),
      /** How long deliveries held for a fault of ours (a secret we cannot open) wait before trying again, in milliseconds. */
      SENDER_OWN_FAULT_RETRY_MS: intVar(10_000, 10),
      /** Deliveries (first attempts and retries) queued per endpoint before its topic stops being read and its retries are parked. */
      SENDER_ENDPOINT_BACKLOG_LIMIT: intVar(200, 1),
      /** How often finished offsets are committed, in milliseconds. */
      SENDER_COMMIT_INTERVAL_MS: intVar(1_000, 10),
      /** How often new delivery topics are looked for, in milliseconds. */
      SENDER_TOPIC_REFRESH_MS: intVar(30_000, 100),
      /**
       * How often the end offsets of every delivery partition are polled (one ListOffsets request
       * per broker and shard), in milliseconds. Only partitions with records are fetched; the
       * router's work signals wake the sender at once, so this poll is the safety net for records
       * nobody signalled (a replay, a router of an older version): how long those can wait.
       */
      SENDER_END_OFFSET_POLL_MS: intVar(5_000, 10),
      /**
       * The same poll while the sender reads the work signals, in milliseconds: it then only
       * catches a signal lost on its way (the router logs each), how long such records can wait.
       * Polling 10,000 partitions every 5 s was most of the sender's and the broker's CPU while
       * every endpoint is idle. The short interval above applies whenever the signals consumer
       * is not reading (starting, rejoining), and every idle partition is checked when it
       * reads again.
       */
      SENDER_END_OFFSET_POLL_SIGNALLED_MS: intVar(30_000, 10),
      /**
       * How long a delivery partition that caught up stays in the fetch, in milliseconds (0: paused
       * at once). An endpoint with a steady stream then gets each delivery as soon as the router
       * writes it, instead of after a signal, an end-offset read and the next fetch cycle.
       */
      SENDER_PARTITION_LINGER_MS: intVar(2_000, 0),
      /** Caught-up delivery partitions kept in the fetch at most, all shards together. */
      SENDER_MAX_LINGERING_PARTITIONS: intVar(400, 0),
      /**
       * Consumer groups the endpoint delivery topics are split over (by a hash of the topic
       * name): a new endpoint rebalances only its shard's group. Part of the group ids; on a
       * change the new groups start each topic where the old layout had committed it.
       */
      SENDER_DELIVERY_SHARDS: intVar(16, 1).pipe(z.number().max(MAX_DELIVERY_SHARDS)),
      /**
       * Most bytes fetched per delivery partition per request. About what an endpoint's lane
       * takes (SENDER_ENDPOINT_BACKLOG_LIMIT deliveries): a partition whose lane is full is held
       * and fetched again later, so the rest of a larger fetch was decoded for nothing.
       */
      SENDER_FETCH_BYTES_PER_PARTITION: intVar(262_144, 1_024),
      /**
       * Retries read ahead of their due time (within their tier's jitter spread) and timed in
       * memory, at most; beyond it a tier partition is held at its next retry until it is due.
       */
      SENDER_RETRY_LOOKAHEAD_MAX: intVar(5_000, 0),
      /** Development and tests only: loopback and private addresses, plain http. */
      SENDER_ALLOW_LOOPBACK: boolVar(false),
      SENDER_ALLOW_PRIVATE_NETWORKS: boolVar(false),
      SENDER_ALLOW_HTTP: boolVar(false),
      SENDER_USER_AGENT: stringVar("Novatrade-Webhooks/1.0"),
      /** 32 bytes, base64: opens the endpoints' signing secrets. */
      ENDPOINT_SECRETS_KEY: z.string().min(1, "is required (32 random bytes, base64)"),
      SENDER_OPS_HOST: stringVar("127.0.0.1"),
      SENDER_OPS_PORT: intVar(9402),
    },
    env,
  );
}

export type SenderConfig = ReturnType<typeof loadConfig>;
