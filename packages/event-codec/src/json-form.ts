/**
 * Turns what avsc decoded (instances of generated record classes) into plain objects and
 * arrays, so callers get ordinary JSON-shaped data they can compare, clone and serialise.
 * Field order follows the schema, which is the order of the rendered JSON body.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  const plain: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) plain[key] = toPlain(field);
  return plain;
}
