import { NovatradeError } from "@novatrade/domain";

/** One invalid field of a request: where it was (`body`, `query`, `params`) and its path. */
export interface FieldProblem {
  in: string;
  field: string;
  message: string;
}

/**
 * An error the API answers with an RFC 9457 problem document. `status` is the HTTP status;
 * `field` names the offending input when there is one.
 */
export class HttpProblem extends NovatradeError {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly extras: { field?: string; errors?: FieldProblem[] } = {},
  ) {
    super(detail, { retriable: status >= 500 });
  }
}

export class BadRequestProblem extends HttpProblem {
  constructor(field: string, detail: string, location = "body") {
    super(400, "Invalid request", `${field}: ${detail}`, { field, errors: [{ in: location, field, message: detail }] });
  }
}

/** Unknown, deleted, or another organization's: the same answer, so ids leak nothing. */
export class NotFoundProblem extends HttpProblem {
  constructor(what: string) {
    super(404, "Not found", `no ${what}`);
  }
}

export class UnauthorizedProblem extends HttpProblem {
  constructor(detail: string) {
    super(401, "Unauthorized", detail);
  }
}

export class ForbiddenProblem extends HttpProblem {
  constructor(detail: string) {
    super(403, "Forbidden", detail);
  }
}

export class ConflictProblem extends HttpProblem {
  constructor(detail: string) {
    super(409, "Conflict", detail);
  }
}

/** The body of an `application/problem+json` answer (RFC 9457). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
  errors?: FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemDocument(problem: HttpProblem, instance: string): ProblemDocument {
  return {
    type: `https://docs.novatrade.example/problems/${problem.status}`,
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    instance,
    ...(problem.extras.field === undefined ? {} : { field: problem.extras.field }),
    ...(problem.extras.errors === undefined ? {} : { errors: problem.extras.errors }),
  };
}
