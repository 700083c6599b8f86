import { topicNames, type TopicNaming } from "@novatrade/domain";
import type { RecordCodec } from "@novatrade/event-codec";
import type { KafkaAdmin, KafkaProducer } from "@novatrade/kafka";
import type { RecordPosition } from "./endpoint-directory.js";
import type { EndpointConfig } from "./endpoint-record.js";
import { deliveryTopicSpec } from "./pipeline-topics.js";

export interface EndpointConfigPublisherDeps {
  producer: KafkaProducer;
  admin: KafkaAdmin;
  records: RecordCodec;
  naming: TopicNaming;
  deliveryTopicPartitions: number;
}

/**
 * Writes endpoint configuration to the compacted topic: the whole record per change, keyed by
 * endpoint id, a tombstone on delete. The endpoint's delivery topic is created before its first
 * record is visible, so the router never routes to a topic that does not exist yet.
 */
export class EndpointConfigPublisher {
  readonly #deps: EndpointConfigPublisherDeps;
  readonly #topic: string;

  constructor(deps: EndpointConfigPublisherDeps) {
    this.#deps = deps;
    this.#topic = topicNames(deps.naming).endpointConfig;
  }

  /** Appends the record; resolves with where it was written. */
  async put(config: EndpointConfig): Promise<RecordPosition> {
    await this.#deps.admin.ensureTopics([deliveryTopicSpec(this.#deps, config.endpointId)]);
    const value = await this.#deps.records.encode("endpoint-config", config);
    const [ack] = await this.#deps.producer.send(this.#topic, [{ key: config.endpointId, value }]);
    return { partition: ack!.partition, offset: ack!.baseOffset };
  }

  /** The endpoint stops matching at once; its delivery topic stays for replay until retention. */
  async remove(endpointId: string): Promise<void> {
    await this.#deps.producer.send(this.#topic, [{ key: endpointId, value: null }]);
  }
}
