/**
 * Small HTTP helpers shared by the simulator's surfaces: the handler result type, X's error bodies
 * (X-API.md §5), body parsing. Handlers return a `SimResponse` instead of writing to the socket so
 * the server can still apply rate-limit headers, billing and faults (e.g. cut the body) afterwards.
 */
import type { IncomingMessage } from 'node:http';

/** What a route handler answers; the server writes it. */
export interface SimResponse {
  status: number;
  /** JSON/HTML text, or bytes already encoded (hot read paths assemble cached UTF-8 fragments). */
  body: string | Buffer;
  headers?: Record<string, string>;
  /** Billable resources in this answer, charged after it is produced (X-API.md §4). */
  billing?: BillingItem[];
}

/** Billable resources of one kind (reads), or one write. */
export type BillingItem =
  | { kind: 'postRead' | 'ownedRead' | 'userRead' | 'dmEventRead'; ids: readonly string[] }
  | { kind: 'post' | 'postWithUrl' | 'reply' | 'dm' | 'follow' };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** A JSON answer. */
export function json(status: number, body: unknown, billing?: BillingItem[]): SimResponse {
  return { status, body: JSON.stringify(body), headers: { ...JSON_HEADERS }, billing };
}

/** A JSON answer whose body is already encoded JSON (assembled from cached fragments). */
export function rawJson(status: number, body: Buffer, billing?: BillingItem[]): SimResponse {
  return { status, body, headers: { ...JSON_HEADERS }, billing };
}

/** An HTML answer (authorize page). */
export function html(status: number, body: string): SimResponse {
  return {
    status,
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      // The page loads nothing from outside; say so to the browser too.
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action *",
    },
  };
}

/** 401 exactly as X answers an expired or revoked token (xurl #8). */
export const UNAUTHORIZED = () =>
  json(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });

/** 429 as live v2 answers it. */
export const TOO_MANY_REQUESTS = () =>
  json(429, { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 });

/** A plain `about:blank` 403 with X's wording. */
export const forbidden = (detail: string, extra: Record<string, unknown> = {}) =>
  json(403, { detail, type: 'about:blank', title: 'Forbidden', status: 403, ...extra });

/** 403 client-forbidden: the plan does not include the endpoint. */
export const clientForbidden = (detail: string, requiredEnrollment: string) =>
  json(403, {
    detail,
    registration_url: 'https://developer.x.com/en/portal/products',
    title: 'Client Forbidden',
    required_enrollment: requiredEnrollment,
    reason: 'client-not-enrolled',
    type: 'https://api.x.com/2/problems/client-forbidden',
  });

/** 400 invalid-request naming the parameter, in X's v2 shape. */
export function invalidRequest(parameter: string, value: unknown, message: string): SimResponse {
  return json(400, {
    errors: [{ parameters: { [parameter]: [value === undefined ? '' : String(value)] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.x.com/2/problems/invalid-request',
  });
}

/** The `errors[]` entry for an id X cannot find. */
export function notFoundError(
  resourceType: 'user' | 'tweet' | 'dm_conversation',
  parameter: string,
  id: string,
) {
  const what = resourceType === 'tweet' ? 'tweet' : resourceType === 'user' ? 'user' : 'conversation';
  return {
    value: id,
    detail: `Could not find ${what} with ${parameter}: [${id}].`,
    title: 'Not Found Error',
    resource_type: resourceType,
    parameter,
    resource_id: id,
    type: 'https://api.x.com/2/problems/resource-not-found',
  };
}

/** Reads the whole request body (bounded: the simulator never needs more than 1 MB). */
export async function readBody(req: IncomingMessage, maxBytes = 1_000_000): Promise<string> {
  return (await readBodyBytes(req, maxBytes)).toString('utf8');
}

/** Reads the whole request body as bytes (media chunks), bounded by `maxBytes`. */
export async function readBodyBytes(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON or form body into a flat string map (OAuth endpoints accept both, X-API.md §8). */
export function parseFlatBody(contentType: string | undefined, body: string): Map<string, string> | null {
  if (!body) return new Map();
  if ((contentType ?? '').includes('json')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      return new Map(
        Object.entries(parsed as Record<string, unknown>)
          .filter(([, v]) => v !== undefined && v !== null)
          .map(([k, v]) => [k, String(v)]),
      );
    } catch {
      return null;
    }
  }
  return new Map(new URLSearchParams(body));
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
