import { SchemaType } from "@kafkajs/confluent-schema-registry";
import { SchemaRegistryError } from "./codec-errors.js";
import type { CatalogueSchema } from "./schema-catalogue.js";
import { isRegistryNotFound, registryErrorStatus, type SchemaRegistryClient } from "./schema-registry-client.js";

/**
 * Registry ids of catalogue schemas, for encoding. Looked up by the exact registered text
 * under the schema's subject (never registered from here: producers must not be able to
 * change the registry), once per schema per process.
 */
export class SchemaIdCache {
  private readonly ids = new Map<CatalogueSchema, Promise<number>>();

  constructor(private readonly registry: SchemaRegistryClient) {}

  /**
   * @throws SchemaRegistryError, not retriable, when the schema is not registered (run
   * `npm run register-schemas`); retriable when the registry could not be asked.
   */
  idOf(schema: CatalogueSchema): Promise<number> {
    let id = this.ids.get(schema);
    if (!id) {
      id = this.lookUp(schema);
      // Failures are not cached, so the next call asks again.
      id.catch(() => this.ids.delete(schema));
      this.ids.set(schema, id);
    }
    return id;
  }

  private async lookUp(schema: CatalogueSchema): Promise<number> {
    const what = schema.kind === "event" ? `${schema.subject} v${schema.version}` : schema.subject;
    try {
      return await this.registry.getRegistryIdBySchema(schema.subject, { type: SchemaType.AVRO, schema: schema.text });
    } catch (error) {
      if (isRegistryNotFound(error)) {
        throw new SchemaRegistryError(`${what} is not registered in the schema registry; run npm run register-schemas`, {
          retriable: false,
          status: 404,
          cause: error,
        });
      }
      const status = registryErrorStatus(error);
      throw new SchemaRegistryError(`could not look up the registry id of ${what}`, {
        retriable: true,
        ...(status === undefined ? {} : { status }),
        cause: error,
      });
    }
  }
}
