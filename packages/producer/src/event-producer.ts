import type { EventType } from "@novatrade/domain";
import { KafkaError, type KafkaProducer } from "@novatrade/kafka";
import { createEventEncoder, type EventEncoderDependencies, type PreparedEvent } from "./event-encoder.js";
import type { EventInput } from "./event-input.js";

export interface EventProducerDependencies extends EventEncoderDependencies {
  /** Connected or not (it connects on first send); owned by the caller, who disconnects it. */
  producer: Pick<KafkaProducer, "send">;
  /** Where events go: the domain topic's configured name. */
  domainTopic: string;
}

/** Where an event was written. */
export interface PublishedEvent {
  id: string;
  type: EventType;
  topic: string;
  partition: number;
  /** 64-bit offset as a decimal string. */
  offset: string;
  /** What was written, defaults filled in; equal to what a consumer decodes. */
  envelope: PreparedEvent["envelope"];
}

export interface EventProducer {
  readonly domainTopic: string;
  /** Validates and encodes without producing (see EventEncoder.prepare). */
  prepare(input: EventInput): Promise<PreparedEvent>;
  /**
   * Validates, encodes and writes one event to the domain topic, keyed by its organization,
   * and resolves once the broker has it replicated (acks=all).
   * @throws ValidationError naming the field; nothing is produced.
   * @throws SchemaRegistryError when the registry cannot give the schema's id; nothing is produced.
   * @throws KafkaError when the write fails (`retriable` says whether to try again; pass the
   * same `id` so receivers can dedupe should the failed write have landed after all).
   */
  publish(input: EventInput): Promise<PublishedEvent>;
}

/**
 * Writes domain events: used by upstream producers (through the CLI or as a library) and by
 * the sender for meta events. Creating the domain topic is not its job: that is a deployment
 * step (or the CLI's), not something to check on every publish.
 */
export function createEventProducer(dependencies: EventProducerDependencies): EventProducer {
  const encoder = createEventEncoder(dependencies);
  const { producer, domainTopic } = dependencies;
  return {
    domainTopic,
    prepare: (input) => encoder.prepare(input),
    async publish(input) {
      const { envelope, key, value, headers } = await encoder.prepare(input);
      const [ack] = await producer.send(domainTopic, [{ key, value, headers }]);
      if (!ack) throw new KafkaError(`produce to ${domainTopic} returned no acknowledgement for ${envelope.id}`, { retriable: true });
      return { id: envelope.id, type: envelope.type, topic: ack.topic, partition: ack.partition, offset: ack.baseOffset, envelope };
    },
  };
}
