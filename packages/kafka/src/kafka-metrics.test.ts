import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createKafkaMetrics } from "./kafka-metrics.js";

describe("createKafkaMetrics", () => {
  it("lets two clients share one registry", async () => {
    const registry = new Registry();
    const a = createKafkaMetrics({ registry, prefix: "test_kafka_", clientId: "a" });
    const b = createKafkaMetrics({ registry, prefix: "test_kafka_", clientId: "b" });
    a.event("consumer", "crash");
    b.event("consumer", "crash");
    b.event("consumer", "crash");
    a.requestQueueSize("producer", "broker-1:9092", 3);
    a.handlerError("g", "rethrow");
    const text = await registry.metrics();
    expect(text).toContain('test_kafka_client_events_total{client_id="a",component="consumer",event="crash"} 1');
    expect(text).toContain('test_kafka_client_events_total{client_id="b",component="consumer",event="crash"} 2');
    expect(text).toContain('test_kafka_request_queue_size{client_id="a",component="producer",broker="broker-1:9092"} 3');
    expect(text).toContain('test_kafka_consumer_handler_errors_total{client_id="a",group_id="g",outcome="rethrow"} 1');
  });
});
