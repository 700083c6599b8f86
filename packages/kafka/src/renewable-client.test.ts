import { describe, expect, it, vi } from "vitest";
import { KafkaError } from "./kafka-error.js";
import { isStaleTopicFailure, RenewableClient } from "./renewable-client.js";

class FakeClient {
  static made: FakeClient[] = [];
  connected = false;
  disconnected = false;
  constructor(readonly id: number) {
    FakeClient.made.push(this);
  }
  async connect(): Promise<void> {
    this.connected = true;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

function stale(): Error {
  return Object.assign(new Error("This server does not host this topic-partition"), {
    type: "UNKNOWN_TOPIC_OR_PARTITION",
    retriable: true,
  });
}

function renewable(options: { afterConnect?: (client: FakeClient) => Promise<void> } = {}) {
  FakeClient.made = [];
  let next = 0;
  const detached: number[] = [];
  const onRenew = vi.fn();
  const client = new RenewableClient<FakeClient>({
    name: "fake",
    create: () => {
      const fake = new FakeClient(next++);
      return { client: fake, detach: () => detached.push(fake.id) };
    },
    shouldRenew: isStaleTopicFailure,
    onRenew,
    ...(options.afterConnect ? { afterConnect: options.afterConnect } : {}),
  });
  return { client, detached, onRenew };
}

describe("RenewableClient", () => {
  it("connects on first use, once", async () => {
    const afterConnect = vi.fn(async () => undefined);
    const { client } = renewable({ afterConnect });
    await client.use(async (fake) => expect(fake.connected).toBe(true));
    await client.use(async () => undefined);
    expect(FakeClient.made).toHaveLength(1);
    expect(afterConnect).toHaveBeenCalledOnce();
  });

  it("passes other errors through untouched and keeps the client", async () => {
    const { client } = renewable();
    const mine = new Error("caller's own");
    await expect(client.use(async () => Promise.reject(mine))).rejects.toBe(mine);
    expect(FakeClient.made).toHaveLength(1);
  });

  it("replaces a client poisoned by a deleted topic and retries once on the fresh one", async () => {
    const { client, detached, onRenew } = renewable();
    const result = await client.use(async (fake) => {
      if (fake.id === 0) throw stale();
      return fake.id;
    });
    expect(result).toBe(1);
    expect(onRenew).toHaveBeenCalledOnce();
    await vi.waitFor(() => expect(FakeClient.made[0]!.disconnected).toBe(true));
    expect(detached).toEqual([0]);
  });

  it("gives up when the fresh client fails the same way (the topic really is missing)", async () => {
    const { client, onRenew } = renewable();
    await expect(client.use(async () => Promise.reject(stale()))).rejects.toMatchObject({ type: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect(FakeClient.made).toHaveLength(2);
    expect(onRenew).toHaveBeenCalledOnce();
  });

  it("does not retry when told not to, but still renews", async () => {
    const { client } = renewable();
    await expect(client.use(async () => Promise.reject(stale()), false)).rejects.toBeDefined();
    expect(FakeClient.made).toHaveLength(1);
    await client.use(async (fake) => expect(fake.id).toBe(1));
  });

  it("closes a replaced client only after its requests in flight finish", async () => {
    const { client } = renewable();
    let release!: () => void;
    const slow = client.use(
      (fake) =>
        new Promise<number>((resolve) => {
          release = () => resolve(fake.id);
        }),
    );
    await vi.waitFor(() => expect(release).toBeDefined());
    await client.use(async (fake) => {
      if (fake.id === 0) throw stale();
    });
    expect(FakeClient.made[0]!.disconnected).toBe(false);
    release();
    await expect(slow).resolves.toBe(0);
    await vi.waitFor(() => expect(FakeClient.made[0]!.disconnected).toBe(true));
  });

  it("disconnects everything and then refuses", async () => {
    const { client } = renewable();
    await client.connect();
    await client.disconnect();
    expect(FakeClient.made[0]!.disconnected).toBe(true);
    await expect(client.use(async () => undefined)).rejects.toBeInstanceOf(KafkaError);
    await expect(client.connect()).rejects.toMatchObject({ code: "DISCONNECTED" });
  });

  it("never connected: disconnect touches nothing", async () => {
    const { client } = renewable();
    await client.disconnect();
    expect(FakeClient.made).toHaveLength(0);
  });
});
