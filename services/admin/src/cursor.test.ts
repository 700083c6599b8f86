import { describe, expect, test } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { BadRequestProblem } from "./problem.js";

describe("cursors", () => {
  test("round-trip the sort key of the last item", () => {
    expect(decodeCursor(encodeCursor(["2026-12-01T05:00:00.000Z", "dlv_1"]), 2)).toEqual(["2026-12-01T05:00:00.000Z", "dlv_1"]);
  });

  test.each([["garbage"], [encodeCursor(["a"])], [Buffer.from('{"a":1}').toString("base64url")], [encodeCursor([true as unknown as string, "x"])]])(
    "%j is refused naming the cursor",
    (text) => {
      let error: unknown;
      try {
        decodeCursor(text, 2);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BadRequestProblem);
      expect((error as BadRequestProblem).extras.field).toBe("cursor");
    },
  );
});
