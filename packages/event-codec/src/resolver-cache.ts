import type { Type } from "avsc";

export type Resolver = ReturnType<Type["createResolver"]>;

/** A resolver, or why the reader cannot be produced from the writer. */
export type ResolverEntry = { resolver: Resolver } | { error: Error };

/**
 * Avro resolvers by (writer schema id, reader). Building a resolver walks both schemas, far
 * more work than decoding one message, so each pair is built once per process — including
 * pairs that cannot be resolved, which would otherwise be retried on every message.
 */
export class ResolverCache {
  private readonly entries = new Map<string, ResolverEntry>();

  get(writerSchemaId: number, readerKey: string, reader: Type, writer: Type): ResolverEntry {
    const key = `${writerSchemaId}/${readerKey}`;
    let entry = this.entries.get(key);
    if (!entry) {
      try {
        entry = { resolver: reader.createResolver(writer) };
      } catch (error) {
        entry = { error: error instanceof Error ? error : new Error(String(error)) };
      }
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Number of pairs built so far. */
  get size(): number {
    return this.entries.size;
  }
}
