import { workSignalRecord, type TopicNaming } from "@novatrade/domain";
import type { KafkaProducer } from "@novatrade/kafka";

/**
 * Names a delivery topic the admin just wrote to (a replay, a test event) on the work-signals
 * topic, so the senders read it now rather than at their next end-offset poll (seconds).
 * Best effort: the topic is made by the router and sender; without it (or on any failure) the
 * records are still found by that poll, so nothing is lost and nothing fails.
 */
export async function signalWork(producer: Pick<KafkaProducer, "send">, naming: TopicNaming, topic: string): Promise<void> {
  const signal = workSignalRecord(naming, [topic]);
  await producer.send(signal.topic, [{ value: signal.value }]).catch(() => undefined);
}
