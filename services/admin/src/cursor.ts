import { BadRequestProblem } from "./problem.js";

/**
 * Opaque pagination cursors: the sort key of the last item of a page, base64url JSON. Keyset
 * pagination (`WHERE (a, b) < (…)`) stays correct and fast while rows are being added.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values), "utf8").toString("base64url");
}

/**
 * @throws BadRequestProblem naming `cursor` when the text is not a cursor of `arity` keys.
 */
export function decodeCursor(text: string, arity: number): (string | number)[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw new BadRequestProblem("cursor", "is not a cursor this API returned", "query");
  }
  if (!Array.isArray(values) || values.length !== arity || !values.every((value) => typeof value === "string" || typeof value === "number")) {
    throw new BadRequestProblem("cursor", "is not a cursor this API returned", "query");
  }
  return values as (string | number)[];
}
