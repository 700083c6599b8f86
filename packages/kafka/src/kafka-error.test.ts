import kafkajs from "kafkajs";
import { NovatradeError } from "@novatrade/domain";
import { describe, expect, it } from "vitest";
import { errorForClient, HandlerFailure, KafkaError, rootCause, toKafkaError } from "./kafka-error.js";

const { KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

function protocolError(type: string, retriable: boolean): Error {
  return new KafkaJSProtocolError({ message: `broker says ${type}`, type, code: 1, retriable } as never);
}

describe("toKafkaError", () => {
  it.each([
    ["a retriable client error", new KafkaJSError("connection lost"), true, undefined],
    ["a non-retriable client error", new KafkaJSNonRetriableError("bad argument"), false, undefined],
    ["a broker error with its code", protocolError("UNKNOWN_TOPIC_OR_PARTITION", true), true, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["fencing", protocolError("INVALID_PRODUCER_EPOCH", false), false, "INVALID_PRODUCER_EPOCH"],
    [
      "retries exceeded on a transient cause (retriable: it can work later)",
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSError("broker down"), { retryCount: 5, retryTime: 100 }),
      true,
      undefined,
    ],
    [
      "retries exceeded on a broker error, keeping the code",
      new KafkaJSNumberOfRetriesExceeded(protocolError("NOT_LEADER_OR_FOLLOWER", true), { retryCount: 5, retryTime: 100 }),
      true,
      "NOT_LEADER_OR_FOLLOWER",
    ],
    ["a plain error", new Error("boom"), false, undefined],
    ["a string", "boom", false, undefined],
  ])("wraps %s", (_name, error, retriable, code) => {
    const wrapped = toKafkaError(error, "produce to t");
    expect(wrapped).toBeInstanceOf(KafkaError);
    expect(wrapped).toBeInstanceOf(NovatradeError);
    expect(wrapped.retriable).toBe(retriable);
    expect(wrapped.code).toBe(code);
    expect(wrapped.message).toMatch(/^produce to t failed: /);
    expect(wrapped.cause).toBe(error);
  });

  it("takes the code of an aggregate's first error", () => {
    const aggregate = Object.assign(new Error("Topic creation errors"), { errors: [protocolError("TOPIC_ALREADY_EXISTS", false)] });
    expect(toKafkaError(aggregate, "create").code).toBe("TOPIC_ALREADY_EXISTS");
  });

  it("passes a KafkaError through", () => {
    const error = new KafkaError("already wrapped", { code: "X" });
    expect(toKafkaError(error, "anything")).toBe(error);
  });
});

describe("rootCause", () => {
  it("walks the cause chain", () => {
    const root = new Error("root");
    expect(rootCause(new Error("top", { cause: new Error("middle", { cause: root }) }))).toBe(root);
    expect(rootCause(root)).toBe(root);
  });
});

describe("errorForClient", () => {
  it("gives kafkajs its own protocol error back from under our wrapper, so it rejoins on UNKNOWN_MEMBER_ID", () => {
    const protocol = protocolError("UNKNOWN_MEMBER_ID", false);
    // As kafkajs' retrier wraps it when a commit keeps failing.
    const nonRetriable = Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol });
    const ours = toKafkaError(nonRetriable, "commit offsets");
    const forClient = errorForClient(ours);
    expect(forClient).toBe(protocol);
    expect((forClient as { type?: string }).type).toBe("UNKNOWN_MEMBER_ID");
  });

  it("turns any other failure (a registry error whose cause is a refused connection) into a retriable error without a cause", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:18081"), { code: "ECONNREFUSED" });
    const registry = new NovatradeError("could not fetch schema id 7", { retriable: true, cause: refused });
    const forClient = errorForClient(registry);
    expect(forClient).toBeInstanceOf(HandlerFailure);
    expect(forClient).toMatchObject({ name: "HandlerFailure", retriable: true, message: "could not fetch schema id 7" });
    expect((forClient as { cause?: unknown }).cause).toBeUndefined();
    expect((forClient as HandlerFailure).handlerError).toBe(registry);
  });

  it("a thrown non-error is kept too", () => {
    expect(errorForClient("boom")).toMatchObject({ message: "boom", retriable: true });
  });
});
