/**
 * RFC 9457 problem details for every API error: `type`, `title`, `status`, `detail`, plus
 * `errors: [{ field, message }]` naming each offending field and `requestId` to find the log line.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';

export interface FieldProblem {
  /** `body.listenDms`, `query.limit`, `path.id`, `header.if-match`, or `body` for the whole body. */
  field: string;
  message: string;
}

export interface ProblemInput {
  status: number;
  /** Short stable code; becomes the `type` URN and `code`. */
  code: string;
  title: string;
  detail: string;
  errors?: FieldProblem[];
  requestId?: string;
  headers?: Record<string, string>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(p: ProblemInput): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: p.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...p.headers },
    body: JSON.stringify({
      type: `urn:x-channel:problem:${p.code}`,
      title: p.title,
      status: p.status,
      detail: p.detail,
      code: p.code,
      ...(p.errors?.length ? { errors: p.errors } : {}),
      ...(p.requestId ? { requestId: p.requestId } : {}),
    }),
  };
}

/** Turns zod issues into field problems under `prefix` (`body`, `query`, `path`). */
export function fieldProblems(error: z.core.$ZodError, prefix: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = [prefix, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: `${base}.${key}`, message: 'unknown field (not allowed)' });
    } else {
      out.push({ field: base, message: issue.message });
    }
  }
  return out;
}

export const validationProblem = (errors: FieldProblem[], requestId?: string) =>
  problem({
    status: 400,
    code: 'validation',
    title: 'Invalid request',
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
    requestId,
  });
