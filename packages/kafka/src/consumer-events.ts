import type { KafkaError } from "./kafka-error.js";
import type { TopicPartitions } from "./topic-partitions.js";

/** What a consumer reports through `consumer.on(event, listener)`. */
export interface ConsumerEvents {
  /** This member joined (or re-joined after a rebalance) and got its partitions. */
  groupJoin: {
    groupId: string;
    memberId: string;
    leaderId: string;
    isLeader: boolean;
    assignment: TopicPartitions[];
    /** Time the join and sync took, in milliseconds. */
    durationMs: number;
  };
  /** The group is rebalancing; this member is about to re-join. */
  rebalancing: { groupId: string; memberId: string };
  /**
   * The consumer stopped on an error. With `restart` it starts again after a backoff, from the
   * last committed offsets; without, it stays down (status `crashed`).
   */
  crash: { groupId: string; error: KafkaError; restart: boolean };
  /** A request to a broker got no answer within the request timeout. */
  requestTimeout: { broker: string; api: string; pendingDurationMs: number };
  /** Patterns matched a different set of topics; the consumer re-subscribed. */
  subscriptionChanged: { groupId: string; topics: string[]; added: string[]; removed: string[] };
}
