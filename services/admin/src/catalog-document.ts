import { buildEventCatalog, type CatalogEntry } from "@novatrade/event-catalog";
import { sampleEvent, sampleVersions, type SchemaCatalogue } from "@novatrade/event-codec";
import { strongEtag } from "./etag.js";

/** A representation built once: its exact JSON text and the strong ETag of that text. */
export interface FixedJson {
  text: string;
  etag: string;
}

/** The event catalog as served: it changes only with a deploy, so it is rendered once at start. */
export interface CatalogDocument {
  entries: CatalogEntry[];
  list: FixedJson;
  byType: ReadonlyMap<string, FixedJson>;
}

function fixed(body: unknown): FixedJson {
  return { text: JSON.stringify(body), etag: strongEtag(body) };
}

/** Every event type of this build's schemas with the kept sample of each version as its example. */
export function buildCatalogDocument(catalogue: SchemaCatalogue): CatalogDocument {
  const entries = buildEventCatalog(
    [...catalogue.events.values()].map((family) => ({
      eventType: family.eventType,
      versions: family.versions.map((schemaVersion) => ({
        version: schemaVersion.version,
        schema: schemaVersion.schema,
        example: sampleVersions(family.eventType).includes(schemaVersion.version) ? sampleEvent(family.eventType, { version: schemaVersion.version }) : null,
      })),
    })),
  );
  return {
    entries,
    list: fixed({ object: "list", data: entries }),
    byType: new Map(entries.map((entry) => [entry.type, fixed(entry)])),
  };
}
