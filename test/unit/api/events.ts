/** Builds API Gateway HTTP API (payload v2) events the way API Gateway delivers them to the function. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpRoutes } from '../../../local/handlers';
import { compileRoutes, matchRoute } from '../../../local/http-host';

export interface EventInput {
  method: string;
  path: string;
  query?: string;
  body?: string | object;
  headers?: Record<string, string>;
  /** The admin's `sub`; null = no authorizer claims. */
  sub?: string | null;
  /** More claims beside `sub`, as API Gateway renders them (e.g. `cognito:groups` as `"[a b]"`). */
  claims?: Record<string, unknown>;
  cookies?: string[];
  host?: string;
  /**
   * The route key API Gateway sends. Default: the route the local host's matcher finds for method and
   * path in the route table (lib/routes.ts), with its path parameters; `$default` when none matches.
   */
  routeKey?: string;
}

const compiled = compileRoutes(httpRoutes({}));

/** What API Gateway puts into the event for a request: the matched route's key and path parameters. */
function route(input: EventInput): { routeKey: string; pathParameters?: Record<string, string> } {
  if (input.routeKey) return { routeKey: input.routeKey };
  const matched = matchRoute(compiled, input.method.toUpperCase(), input.path);
  if (!matched) return { routeKey: '$default' };
  const { c, params } = matched;
  return { routeKey: c.routeKey, ...(Object.keys(params).length ? { pathParameters: params } : {}) };
}

export const API_HOST = 'api.x-channel.test';
export const API_ORIGIN = `https://${API_HOST}`;

export function apiEvent(input: EventInput): APIGatewayProxyEventV2 {
  const body =
    input.body === undefined
      ? undefined
      : typeof input.body === 'string'
        ? input.body
        : JSON.stringify(input.body);
  const query = input.query ?? '';
  const sub = input.sub === undefined ? 'admin-1' : input.sub;
  const headers: Record<string, string> = {
    host: input.host ?? API_HOST,
    'x-forwarded-proto': 'https',
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...input.headers,
  };
  const params = new URLSearchParams(query);
  const qsp: Record<string, string> = {};
  // API Gateway joins repeated query parameters with commas
  for (const k of new Set(params.keys())) qsp[k] = params.getAll(k).join(',');
  const { routeKey, pathParameters } = route(input);
  return {
    version: '2.0',
    routeKey,
    ...(pathParameters ? { pathParameters } : {}),
    rawPath: input.path,
    rawQueryString: query,
    headers,
    ...(query ? { queryStringParameters: qsp } : {}),
    ...(input.cookies ? { cookies: input.cookies } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: input.host ?? API_HOST,
      domainPrefix: 'api',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'jest',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(sub ? { authorizer: { jwt: { claims: { sub, ...input.claims }, scopes: null } } } : {}),
    } as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

export const lambdaContext = (): Context =>
  ({
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:api',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/api',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

export type ApiFn = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/** Calls the handler and parses the JSON body (if any). */
export async function call(handler: ApiFn, input: EventInput) {
  const res = (await handler(apiEvent(input), lambdaContext())) as APIGatewayProxyStructuredResultV2;
  const type = String(res.headers?.['content-type'] ?? '');
  const json = type.includes('json') && res.body ? JSON.parse(res.body) : undefined;
  return {
    status: res.statusCode ?? 200,
    headers: res.headers ?? {},
    cookies: res.cookies ?? [],
    body: json,
    text: res.body ?? '',
  };
}
