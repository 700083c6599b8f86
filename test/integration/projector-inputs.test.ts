import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, partitionName, topicNames, utcDay } from "@novatrade/domain";
import { listPartitionDays } from "@novatrade/database";
import { sampleEvent } from "@novatrade/event-codec";
import { dropSchema, newSchemaName, outcomeRecord, produceOutcomes, projectorSuite, waitForRows } from "../support/projector.js";
import { infraEnv } from "../support/infra-env.js";
import { runCli } from "../support/run-cli.js";
import { waitUntil } from "../support/wait-until.js";

/*
 * What the projector does with bad input on each of its topics, retention by whole day
 * partitions (with an injected clock), and the migrate command.
 */

const realNow = Date.now();
let clock = realNow;
const suite = projectorSuite({ beforeAll, afterAll }, () => clock);

function projectorDeadLetters(topic: string) {
  return suite.pipeline.deadLetters.records.filter((d) => d.failedBy === "projector" && d.originalTopic === topic);
}

describe("projector inputs", () => {
  test("bad records on each input topic are dead-lettered with the reason, and the projector carries on", async () => {
    const topics = topicNames(suite.pipeline.naming);
    const emptyId = await suite.pipeline.records.encode("delivery-outcome", outcomeRecord({ endpointId: "ep_dlq", deliveryId: "", attemptedAt: Date.now() }));
    await suite.pipeline.producer.send(topics.deliveryOutcome, [
      { key: "ep_dlq", value: Buffer.from("not avro at all") },
      { key: "ep_dlq", value: emptyId },
    ]);
    await suite.pipeline.producer.send(topics.endpointConfig, [{ key: "ep_garbage", value: Buffer.from([0, 0, 0, 0, 99, 1, 2]) }]);
    await suite.pipeline.producer.send(topics.domain, [{ key: "org", value: Buffer.from("{\"json\":\"is not an event\"}") }]);

    // After the bad records, good ones on every topic: projected, so nothing is stuck.
    await produceOutcomes(suite.pipeline, [outcomeRecord({ endpointId: "ep_dlq", deliveryId: "dlv_after_poison", attemptedAt: Date.now() })]);
    const { config } = await suite.pipeline.addEndpoint({ url: "https://example.com/after-poison", eventTypes: ["kyc.*"] });
    const eventId = await suite.pipeline.publish({ type: "kyc.vies_check_failed", data: sampleEvent("kyc.vies_check_failed").data });
    await waitForRows(suite.db, "deliveries", 1, { delivery_id: "dlv_after_poison" });
    await waitForRows(suite.db, "endpoints", 1, { endpoint_id: config.endpointId });
    await waitForRows(suite.db, "events", 1, { event_id: eventId });

    await suite.pipeline.deadLetters.waitFor(
      () => projectorDeadLetters(topics.deliveryOutcome).length === 2 && projectorDeadLetters(topics.endpointConfig).length === 1 && projectorDeadLetters(topics.domain).length === 1,
      "the projector's dead letters",
    );
    const [garbage, invalid] = projectorDeadLetters(topics.deliveryOutcome);
    expect(garbage).toMatchObject({ errorClass: "DecodeError", value: Buffer.from("not avro at all"), key: Buffer.from("ep_dlq") });
    expect(garbage!.reason).not.toBe("");
    expect(invalid).toMatchObject({ errorClass: "ValidationError", reason: "deliveryId: must not be empty" });
    expect(projectorDeadLetters(topics.endpointConfig)[0]).toMatchObject({ errorClass: "DecodeError", key: Buffer.from("ep_garbage") });
    expect(projectorDeadLetters(topics.domain)[0]!.errorClass).toMatch(/DecodeError|ValidationError/);
    expect(await suite.db("endpoints").where({ endpoint_id: "ep_garbage" })).toEqual([]);
    const metrics = await suite.projector.registry.getSingleMetricAsString("novatrade_projector_records_total");
    expect(metrics).toMatch(/input="outcomes",outcome="dead_lettered"} 2/);
  });

  test("retention drops whole day partitions older than 30 days, keeps younger ones and creates days ahead", async () => {
    const day = (daysAgo: number) => realNow - daysAgo * DAY_MS;
    // Projected while those days were recent (the clock 40 days back)...
    clock = realNow - 40 * DAY_MS;
    const ages = [35, 31, 29, 1];
    await produceOutcomes(suite.pipeline, ages.map((age) => outcomeRecord({ endpointId: "ep_retention", deliveryId: `dlv_age_${age}`, attemptedAt: day(age) })));
    await waitForRows(suite.db, "deliveries", 4, { endpoint_id: "ep_retention" });

    // ...then 40 days later, maintenance runs.
    clock = realNow;
    const { dropped, created } = await suite.projector.app.maintain();
    expect(dropped).toEqual(expect.arrayContaining([utcDay(day(35)), utcDay(day(31))]));
    expect(dropped).not.toContain(utcDay(day(29)));
    for (const table of ["events", "deliveries", "attempts"] as const) {
      const days = await listPartitionDays(suite.db, table);
      expect(days).not.toContain(utcDay(day(31)));
      expect(days).toContain(utcDay(day(29)));
      for (let ahead = 0; ahead <= 7; ahead++) expect(days).toContain(utcDay(realNow + ahead * DAY_MS));
    }
    expect(created).not.toContain(utcDay(day(29)));
    const left = (await suite.db("deliveries").where({ endpoint_id: "ep_retention" }).orderBy("delivery_id")).map((row) => row.delivery_id);
    expect(left).toEqual(["dlv_age_1", "dlv_age_29"]);
    expect(await suite.db.raw("SELECT to_regclass(?) AS t", [partitionName("attempts", utcDay(day(35)))])).toMatchObject({ rows: [{ t: null }] });

    // An outcome of an expired day is not kept (no partition is made for it); later ones are.
    await produceOutcomes(suite.pipeline, [
      outcomeRecord({ endpointId: "ep_retention", deliveryId: "dlv_age_40", attemptedAt: day(40) }),
      outcomeRecord({ endpointId: "ep_retention", deliveryId: "dlv_age_0", attemptedAt: realNow }),
    ]);
    await waitForRows(suite.db, "deliveries", 1, { delivery_id: "dlv_age_0" });
    expect(await suite.db("deliveries").where({ delivery_id: "dlv_age_40" })).toEqual([]);
    expect(await listPartitionDays(suite.db, "deliveries")).not.toContain(utcDay(day(40)));
    await waitUntil(async () => /outcome="expired"} 1/.test(await suite.projector.registry.getSingleMetricAsString("novatrade_projector_records_total")), { what: "the expired outcome counted" });
  });

  test("the migrate command creates the schema and is re-runnable", async () => {
    const fresh = newSchemaName();
    try {
      const env = { DATABASE_URL: infraEnv.databaseUrl, DATABASE_SCHEMA: fresh };
      const first = await runCli("packages/database/dist/migrate-cli.js", [], env);
      expect(first).toMatchObject({ code: 0, stderr: "" });
      // Every migration runs, later ones (the admin's 0100-admin-tables) after the history tables.
      expect(first.stdout).toMatch(/migrated \(0001-history-tables(, [0-9a-z-]+)*\)/);
      const again = await runCli("packages/database/dist/migrate-cli.js", [], env);
      expect(again).toMatchObject({ code: 0, stderr: "" });
      expect(again.stdout).toMatch(/already up to date/);
      const broken = await runCli("packages/database/dist/migrate-cli.js", [], { DATABASE_URL: "" });
      expect(broken.code).toBe(2);
    } finally {
      await dropSchema(fresh);
    }
  });
});
