export { EVENT_CONTENT_TYPE, EVENT_HEADERS, eventHeaders } from "./event-headers.js";
export { completeEnvelope, newEventId, type EnvelopeDefaults, type EventInput } from "./event-input.js";
export { createEventEncoder, type EventEncoder, type EventEncoderDependencies, type PreparedEvent } from "./event-encoder.js";
export { createEventProducer, type EventProducer, type EventProducerDependencies, type PublishedEvent } from "./event-producer.js";
export {
  DOMAIN_TOPIC_PARTITIONS,
  EXIT_INFRASTRUCTURE,
  EXIT_INVALID_INPUT,
  EXIT_OK,
  runProduceCommand,
  type ProduceCommandContext,
  type ProduceConfig,
  type ProduceResources,
} from "./produce-command.js";
export { CLI_DEFAULT_SOURCE, parseProduceArguments, UsageError, type ProduceArguments } from "./cli-arguments.js";
