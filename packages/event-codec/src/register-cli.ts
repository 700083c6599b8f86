#!/usr/bin/env node
/**
 * Registers schemas/ in the schema registry: `npm run register-schemas`.
 *   SCHEMA_REGISTRY_URL  Confluent-compatible base URL (default: the local Apicurio's ccompat API)
 *   SCHEMAS_DIR          schemas directory (default: the repository's schemas/)
 * Prints one line per schema; exits 1 with the registry's reason when a schema is refused.
 */
import { NovatradeError } from "@novatrade/domain";
import { loadSchemaCatalogue } from "./load-schema-catalogue.js";
import { registerSchemas } from "./register-schemas.js";
import { createSchemaRegistryAdmin } from "./registry-admin.js";

const DEFAULT_SCHEMA_REGISTRY_URL = "http://127.0.0.1:18081/apis/ccompat/v7";

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const url = env.SCHEMA_REGISTRY_URL || DEFAULT_SCHEMA_REGISTRY_URL;
  const catalogue = await loadSchemaCatalogue(env.SCHEMAS_DIR ? { directory: env.SCHEMAS_DIR } : {});
  const admin = createSchemaRegistryAdmin({ url });
  process.stdout.write(`registering ${catalogue.all().length} schemas from ${catalogue.directory} in ${admin.url}\n`);
  const registrations = await registerSchemas(admin, catalogue, {
    compatibility: "FULL_TRANSITIVE",
    onRegistered: (r) => {
      const version = r.catalogueVersion === null ? "" : ` v${r.catalogueVersion}`;
      process.stdout.write(
        `${r.created ? "registered" : "unchanged "}  ${r.subject}${version}  (${r.schema})  registry version ${r.registryVersion}  id ${r.id}\n`,
      );
    },
  });
  const created = registrations.filter((r) => r.created).length;
  process.stdout.write(`done: ${created} registered, ${registrations.length - created} already present\n`);
}

main(process.env).catch((error: unknown) => {
  const message = error instanceof NovatradeError ? `${error.name}: ${error.message}` : String((error as Error)?.stack ?? error);
  process.stderr.write(`register-schemas failed: ${message}\n`);
  process.exitCode = 1;
});
