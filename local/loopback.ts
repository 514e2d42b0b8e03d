/**
 * Loopback-only guards for the local HTTP servers (the admin API host and the simulated X). They
 * listen on 127.0.0.1, but a web page elsewhere can still reach them from the user's browser: by DNS
 * rebinding (its own name resolved to 127.0.0.1, so its requests carry that name in `Host`) or by a
 * cross-origin "simple" request (a no-cors `text/plain` POST that needs no preflight). So:
 *
 * - {@link refuseForeignHost}: a request whose `Host` is not `127.0.0.1`, `localhost` or `[::1]`
 *   (any port) gets 403, before any routing. The AWS stand-ins make the same check in
 *   `stand-ins/request-guard.ts`.
 * - {@link jsonApiRefusal}: for JSON control APIs (the simulated X's `/_sim/*`, the console's local
 *   sign-in exchange) a browser `Origin` other than the server's own gets 403, and a request with a
 *   body must say `content-type: application/json` (415). A page elsewhere can then only send a
 *   preflighted request, which these servers never allow (they send no CORS headers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/** Whether a `Host` header value names loopback (`127.0.0.1`, `localhost`, `[::1]`, with any port). */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

/** A refusal to send: status and a plain sentence saying what is wrong. */
export interface Refusal {
  status: number;
  title: string;
  detail: string;
}

const quote = (value: string) => JSON.stringify(value.slice(0, 100));

function sendProblem(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  const body = JSON.stringify({ type: 'about:blank', ...refusal });
  req.resume();
  res.writeHead(refusal.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

/**
 * Answers 403 and returns true when the request's `Host` is not loopback; call it first in a
 * request listener.
 *
 * @example
 * http.createServer((req, res) => {
 *   if (refuseForeignHost(req, res)) return;
 *   // ... route
 * });
 */
export function refuseForeignHost(req: IncomingMessage, res: ServerResponse): boolean {
  const host = req.headers.host;
  if (isLoopbackHost(host)) return false;
  sendProblem(req, res, {
    status: 403,
    title: 'Forbidden',
    detail: `Host ${host === undefined ? 'header missing' : quote(host)}: this local server answers only requests addressed to 127.0.0.1, localhost or [::1]`,
  });
  return true;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Why a request to a JSON control API must be refused, or undefined when it may proceed: a browser
 * `Origin` that is not this server's own (403), or a body that is not declared `application/json` (415).
 * The server's own origin is taken from the (already checked, loopback) `Host` header.
 */
export function jsonApiRefusal(req: {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
}): Refusal | undefined {
  const one = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const origin = one('origin');
  if (origin !== undefined) {
    let sameOrigin = false;
    try {
      const u = new URL(origin);
      sameOrigin = u.protocol === 'http:' && u.host === (one('host') ?? '').toLowerCase();
    } catch {
      // "null" or garbage: not this server's origin
    }
    if (!sameOrigin) {
      return {
        status: 403,
        title: 'Forbidden',
        detail: `Origin ${quote(origin)} may not use this local control API (only pages served from this origin may)`,
      };
    }
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const hasBody = one('transfer-encoding') !== undefined || Number(one('content-length') ?? 0) > 0;
  if (BODY_METHODS.has(method) && hasBody) {
    const type = (one('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      return {
        status: 415,
        title: 'Unsupported Media Type',
        detail: `content-type must be application/json, got ${type ? quote(type) : 'none'}`,
      };
    }
  }
  return undefined;
}

/** Answers the {@link jsonApiRefusal} and returns true when there is one. */
export function refuseJsonApiRequest(req: IncomingMessage, res: ServerResponse): boolean {
  const refusal = jsonApiRefusal(req);
  if (!refusal) return false;
  sendProblem(req, res, refusal);
  return true;
}
