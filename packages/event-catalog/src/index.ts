export { avroToJsonSchema, UnsupportedAvroError, type JsonSchema } from "./avro-to-json-schema.js";
export { buildEventCatalog, type CatalogEntry, type CatalogSource, type CatalogVersion } from "./event-catalog.js";
