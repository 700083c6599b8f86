/**
 * Where the integration tests find Kafka, the registry and PostgreSQL: the same variables the
 * services read, defaulting to what `scripts/infra.sh up` starts on loopback.
 */
export const infraEnv = {
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.INFRA_KAFKA_PORT ?? "19092"}`).split(","),
  schemaRegistryUrl:
    process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${process.env.INFRA_REGISTRY_PORT ?? "18081"}/apis/ccompat/v7`,
  databaseUrl:
    process.env.DATABASE_URL ??
    `postgres://novatrade:novatrade@127.0.0.1:${process.env.INFRA_PG_PORT ?? "15432"}/novatrade`,
};
