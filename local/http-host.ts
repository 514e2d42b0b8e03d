/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0) in front of Lambda handlers.
 *
 * One `node:http` server turns each request into the event API Gateway would send and the handler's
 * result back into a response, with API Gateway's rules where a handler could notice a difference:
 * - routes are data (`HttpRoute[]`), matched like API Gateway: exact path before `{param}` before
 *   `{proxy+}`, an explicit method before `ANY`, then the `$default` route, else 404;
 * - `auth: true` routes mimic the JWT authorizer: without `Authorization: Bearer <adminToken>` the
 *   request is refused with 401 and the handler is never invoked; with it the event carries
 *   `requestContext.authorizer.jwt.claims` of the local admin;
 * - a request whose `Host` is not loopback (DNS rebinding) → 403 before routing (`loopback.ts`);
 * - bodies over 10 MB → 413; non-text bodies arrive base64 with `isBase64Encoded: true`;
 * - a string (or object without `statusCode`) result means 200 `application/json`;
 * - a throwing handler → 500 problem+json with the request id (never the stack), logged; a handler
 *   running past the integration timeout (30 s) → 503.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLambdaContext, HandlerTimeoutError, LOCAL_ACCOUNT_ID, withTimeout } from './lambda-context';
import { refuseForeignHost } from './loopback';

/** Methods a route may declare; `ANY` matches every method, as in API Gateway. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'ANY';

/**
 * The event the host builds. Routes without `auth` get no `authorizer`, as in API Gateway, so the
 * type makes it optional.
 */
export type HttpEvent = Omit<APIGatewayProxyEventV2WithJWTAuthorizer, 'requestContext'> & {
  requestContext: Omit<APIGatewayProxyEventV2WithJWTAuthorizer['requestContext'], 'authorizer'> & {
    authorizer?: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'];
  };
};

/** What a handler may return: the structured result, or anything else API Gateway treats as a JSON body. */
export interface HttpResult {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** A Lambda handler behind the HTTP API. Typed loosely on purpose: middy and plain handlers both fit. */
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<unknown> | unknown;

/**
 * One route of the HTTP API, declared as data so a test can compare the list with the CDK routes.
 *
 * @example
 * { method: 'GET', path: '/channels/{id}', auth: true, handler: apiHandler }
 */
export interface HttpRoute {
  method: HttpMethod;
  /** `/channels/{id}`, `/{proxy+}`, or `$default` (the catch-all route). */
  path: string;
  /** Requires the admin bearer token (the JWT authorizer in AWS). */
  auth: boolean;
  handler: HttpHandler;
  /** Function name in logs and the Lambda context; defaults to `api`. */
  functionName?: string;
}

export interface HttpHostOptions {
  routes: HttpRoute[];
  /** The bearer token that `auth` routes require (local.json `adminToken`). */
  adminToken: string;
  /** Further bearer tokens `auth` routes accept (the console's sessions, `console-sign-in.ts`). */
  acceptsToken?: (token: string) => boolean;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  region?: string;
  logger?: Logger;
  /** API Gateway's payload limit is 10 MB. */
  maxBodyBytes?: number;
  /** API Gateway's integration timeout is 30 s. */
  timeoutMs?: number;
}

export interface HttpHost {
  /** Origin, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly port: number;
  /** Replaces the route table (e.g. once the handlers are imported). */
  setRoutes(routes: HttpRoute[]): void;
  /** Stops accepting, waits for in-flight requests, closes idle keep-alive sockets. */
  stop(): Promise<void>;
}

const TEN_MB = 10 * 1024 * 1024;
/** The claims the local "authorizer" vouches for; same names as the Cognito JWT in AWS. */
export const LOCAL_ADMIN_CLAIMS = { sub: 'local-admin', 'cognito:username': 'admin' } as const;

export interface CompiledRoute {
  route: HttpRoute;
  routeKey: string;
  regex: RegExp;
  names: string[];
  /** Higher wins: static segments count most, greedy paths least. */
  rank: number;
}

/** Validates and compiles the route table; a bad route names itself. */
export function compileRoutes(routes: HttpRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((route, i) => {
    const routeKey = route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
    if (seen.has(routeKey)) throw new Error(`routes[${i}]: duplicate route ${routeKey}`);
    seen.add(routeKey);
    if (route.path === '$default') return { route, routeKey, regex: /^/, names: [], rank: -1 };
    if (!route.path.startsWith('/')) throw new Error(`routes[${i}].path must start with "/": ${route.path}`);
    const names: string[] = [];
    let rank = 0;
    const segments = route.path.split('/').slice(1);
    const parts = segments.map((segment, j) => {
      const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(segment);
      if (greedy) {
        if (j !== segments.length - 1) throw new Error(`routes[${i}].path: {${greedy[1]}+} must be last`);
        names.push(greedy[1]);
        return '(.+)';
      }
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (param) {
        names.push(param[1]);
        rank += 1;
        return '([^/]+)';
      }
      rank += 100;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    rank = rank * 10 + (route.method === 'ANY' ? 0 : 1);
    return { route, routeKey, regex: new RegExp(`^/${parts.join('/')}$`), names, rank };
  });
}

/** The one route matcher (API Gateway's ranking); `$default` only when nothing else matches. */
export function matchRoute(
  compiled: CompiledRoute[],
  method: string,
  path: string,
): { c: CompiledRoute; params: Record<string, string> } | undefined {
  let best: { c: CompiledRoute; params: Record<string, string> } | undefined;
  for (const c of compiled) {
    if (c.rank < 0) continue;
    if (c.route.method !== 'ANY' && c.route.method !== method) continue;
    const m = c.regex.exec(path);
    if (!m) continue;
    if (best && best.c.rank >= c.rank) continue;
    const params: Record<string, string> = {};
    c.names.forEach((name, k) => {
      params[name] = safeDecode(m[k + 1]);
    });
    best = { c, params };
  }
  if (best) return best;
  const fallback = compiled.find((c) => c.rank < 0);
  return fallback ? { c: fallback, params: {} } : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** API Gateway passes these content types as text; everything else arrives base64-encoded. */
function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const t = contentType.split(';')[0].trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    /[/+](json|xml)$/.test(t) ||
    t === 'application/x-www-form-urlencoded' ||
    t === 'application/javascript'
  );
}

/** Constant-time token check; hashing first makes the lengths equal without leaking them. */
function tokenMatches(header: string | undefined, adminToken: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1].trim()).digest();
  const b = createHash('sha256').update(adminToken).digest();
  return timingSafeEqual(a, b);
}

/** CLF-like time API Gateway puts into `requestContext.time`, e.g. `12/Mar/2020:19:03:58 +0000`. */
function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())} +0000`;
}

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** Builds the payload format 2.0 event for one request. Exported for tests and the bench. */
export function buildHttpEvent(input: {
  req: http.IncomingMessage;
  body: Buffer;
  routeKey: string;
  pathParameters: Record<string, string>;
  requestId: string;
  now: Date;
  authorized: boolean;
}): HttpEvent {
  const { req, body, now } = input;
  const url = new URL(req.url ?? '/', 'http://local');
  const rawQueryString = (req.url ?? '').includes('?')
    ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1)
    : '';
  // API Gateway lower-cases header names, joins repeated headers with commas, and moves cookies out.
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  // API Gateway adds these; handlers build absolute URLs (e.g. the console origin) from them.
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${sourceIp}`
    : sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const text = isTextContent(headers['content-type']);
  const method = (req.method ?? 'GET').toUpperCase();
  const event: HttpEvent = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: url.pathname,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    ...(Object.keys(input.pathParameters).length ? { pathParameters: input.pathParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0].split(':')[0],
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId,
      routeKey: input.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
      ...(input.authorized
        ? { authorizer: { jwt: { claims: { ...LOCAL_ADMIN_CLAIMS }, scopes: null } } }
        : {}),
    },
    isBase64Encoded: body.length > 0 && !text,
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
  };
  return event;
}

interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Maps a handler's result to HTTP exactly as API Gateway does for payload format 2.0. */
export function resultToReply(result: unknown): Reply {
  const isStructured =
    typeof result === 'object' &&
    result !== null &&
    'statusCode' in result &&
    typeof (result as HttpResult).statusCode === 'number';
  if (!isStructured) {
    // API Gateway: no statusCode → 200 JSON; a string is the body as is, anything else is serialised.
    const body = typeof result === 'string' ? result : result === undefined ? '' : JSON.stringify(result);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(body),
    };
  }
  const r = result as HttpResult;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (!headers['content-type']) headers['content-type'] = 'application/json';
  const body =
    r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  return { statusCode: r.statusCode as number, headers, cookies: r.cookies ?? [], body };
}

function problem(
  status: number,
  title: string,
  detail: string,
  requestId: string,
  extra: Record<string, string> = {},
): Reply {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', ...extra },
    cookies: [],
    body: Buffer.from(JSON.stringify({ type: 'about:blank', title, status, detail, requestId })),
  };
}

function send(res: http.ServerResponse, reply: Reply, requestId: string, head: boolean): void {
  const headers: http.OutgoingHttpHeaders = { ...reply.headers, 'apigw-requestid': requestId };
  if (reply.cookies.length) headers['set-cookie'] = reply.cookies;
  headers['content-length'] = String(reply.body.length);
  res.writeHead(reply.statusCode, headers);
  res.end(head ? undefined : reply.body);
}

/**
 * Starts the local HTTP API.
 *
 * @example
 * const host = await startHttpHost({ routes, adminToken, port: 4000 });
 * // ... later
 * await host.stop();
 */
export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  if (!options.adminToken || options.adminToken.length < 16) {
    throw new Error('adminToken must be at least 16 characters');
  }
  let compiled = compileRoutes(options.routes);
  const maxBody = options.maxBodyBytes ?? TEN_MB;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const region = options.region ?? 'us-east-1';
  const log = options.logger;
  const inFlight = new Set<Promise<void>>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const head = method === 'HEAD';
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const matched = matchRoute(compiled, method, path);
    if (!matched) {
      send(res, problem(404, 'Not Found', `no route for ${method} ${path}`, requestId), requestId, head);
      req.resume();
      return;
    }
    const { c, params } = matched;
    // The authorizer runs before the body is read or the function is invoked, as in API Gateway.
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const authorized =
      tokenMatches(req.headers.authorization, options.adminToken) ||
      Boolean(bearer && options.acceptsToken?.(bearer));
    if (c.route.auth && !authorized) {
      send(
        res,
        problem(
          401,
          'Unauthorized',
          'a valid "Authorization: Bearer <adminToken>" header is required',
          requestId,
          {
            'www-authenticate': 'Bearer',
          },
        ),
        requestId,
        head,
      );
      req.resume();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        send(
          res,
          problem(413, 'Request Entity Too Large', `the body exceeds ${maxBody} bytes`, requestId),
          requestId,
          head,
        );
        return;
      }
      throw e;
    }
    const event = buildHttpEvent({
      req,
      body,
      routeKey: c.routeKey,
      pathParameters: params,
      requestId,
      now: new Date(),
      authorized: c.route.auth,
    });
    const functionName = c.route.functionName ?? 'api';
    const context = createLambdaContext({ functionName, timeoutMs, region, awsRequestId: randomUUID() });
    let reply: Reply;
    try {
      const result = await withTimeout(functionName, timeoutMs, async () => c.route.handler(event, context));
      reply = resultToReply(result);
    } catch (e) {
      const err = e as Error;
      if (e instanceof HandlerTimeoutError) {
        log?.error('http handler timed out', { requestId, routeKey: c.routeKey, functionName, timeoutMs });
        reply = problem(503, 'Service Unavailable', 'the handler did not answer in time', requestId);
      } else {
        log?.error('http handler failed', {
          requestId,
          routeKey: c.routeKey,
          functionName,
          errorName: err?.name,
          errorMessage: err?.message,
          stack: err?.stack,
        });
        reply = problem(
          500,
          'Internal Server Error',
          'the handler failed; see the host log for this request id',
          requestId,
        );
      }
    }
    send(res, reply, requestId, head);
  };

  const server = http.createServer((req, res) => {
    if (refuseForeignHost(req, res)) return;
    const p = handle(req, res)
      .catch((e: Error) => {
        log?.error('http host failure', { errorName: e?.name, errorMessage: e?.message });
        if (!res.headersSent)
          send(res, problem(500, 'Internal Server Error', 'host failure', 'n/a'), 'n/a', false);
        else res.destroy();
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    port,
    setRoutes(routes) {
      compiled = compileRoutes(routes);
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await closed;
    },
  };
}
