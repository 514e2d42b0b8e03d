/**
 * The admin API as one Lambda handler: matches the route table (so it works behind per-route
 * integrations and a `$default` catch-all alike), checks the caller, runs the route, and maps every
 * failure to problem+json. Bad input is always 4xx; an unknown error is a 500 with a request id,
 * logged by name only (vendor errors can carry headers with tokens).
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { assertNever, isChannelError, type ChannelError } from '../../core/errors';
import type { ApiDeps } from './compose';
import { problem } from './problem';
import { apiRoutes, RequestProblem, type ApiRoute } from './routes';

interface CompiledRoute {
  route: ApiRoute;
  regex: RegExp;
  names: string[];
  rank: number;
}

function compile(route: ApiRoute): CompiledRoute {
  const names: string[] = [];
  let rank = 0;
  const parts = route.path.split('/').map((seg) => {
    const greedy = /^\{(\w+)\+\}$/.exec(seg);
    if (greedy) {
      names.push(greedy[1]);
      return '(.+)';
    }
    const param = /^\{(\w+)\}$/.exec(seg);
    if (param) {
      names.push(param[1]);
      rank += 1;
      return '([^/]+)';
    }
    rank += 10;
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { route, regex: new RegExp(`^${parts.join('/')}$`), names, rank };
}

const compiled = apiRoutes.map(compile).sort((a, b) => b.rank - a.rank);

/** Finds the route for a method and path; `allowed` lists methods of a path matched by others. */
export function matchRoute(method: string, path: string) {
  const allowed = new Set<string>();
  for (const c of compiled) {
    const m = c.regex.exec(path);
    if (!m) continue;
    if (c.route.method !== method) {
      allowed.add(c.route.method);
      continue;
    }
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(m[i + 1]);
      } catch {
        params[n] = m[i + 1];
      }
    });
    return { route: c.route, params, allowed };
  }
  return { route: undefined, params: {}, allowed };
}

function statusOf(e: ChannelError): { status: number; title: string; retryAfter?: number } {
  switch (e.kind) {
    case 'invalid_input':
      return { status: 400, title: 'Invalid request' };
    case 'needs_reauth':
      return { status: 409, title: 'Sign in with X again' };
    case 'permanent':
      if (e.code === 'channel_not_found') return { status: 404, title: 'Channel not found' };
      if (e.code === 'version_mismatch') return { status: 412, title: 'Version mismatch' };
      if (e.code === 'app_config') return { status: 502, title: 'X app misconfigured' };
      return { status: 409, title: 'Conflict' };
    case 'retryable':
      if (e.code === 'conflict') return { status: 409, title: 'Concurrent change' };
      return {
        status: 503,
        title: 'Temporarily unavailable',
        retryAfter: e.notBefore ? Math.max(1, Math.ceil((e.notBefore.getTime() - Date.now()) / 1000)) : 5,
      };
    default:
      return assertNever(e.kind);
  }
}

function stripStage(event: APIGatewayProxyEventV2): string {
  const path = event.rawPath || '/';
  const stage = event.requestContext?.stage;
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    return path.slice(stage.length + 1) || '/';
  }
  return path;
}

/** The plain async handler over composed dependencies. */
export function createApiHandler(deps: ApiDeps) {
  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyResultV2> => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const path = stripStage(event);
    const { route, params, allowed } = matchRoute(method, path);
    if (!route) {
      return allowed.size
        ? problem({
            status: 405,
            code: 'method_not_allowed',
            title: 'Method not allowed',
            detail: `${method} is not allowed on ${path.slice(0, 200)}; allowed: ${[...allowed].join(', ')}`,
            requestId,
            headers: { allow: [...allowed].join(', ') },
          })
        : problem({
            status: 404,
            code: 'not_found',
            title: 'Not found',
            detail: `no route for ${method} ${path.slice(0, 200)}`,
            requestId,
          });
    }
    const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
      ?.authorizer?.jwt?.claims;
    const sub = typeof claims?.sub === 'string' && claims.sub ? claims.sub : null;
    if (route.auth && !sub) {
      // defence in depth: API Gateway's JWT authorizer (or the local host) should have refused already
      return problem({
        status: 401,
        code: 'unauthenticated',
        title: 'Authentication required',
        detail: 'send Authorization: Bearer <token> of an admin',
        errors: [{ field: 'header.authorization', message: 'missing or invalid bearer token' }],
        requestId,
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    try {
      return await route.handle({ event, deps, params, sub, requestId });
    } catch (e) {
      if (e instanceof RequestProblem) return e.response;
      if (isChannelError(e)) {
        const { status, title, retryAfter } = statusOf(e);
        if (status >= 500)
          deps.logger.warn('request failed', {
            requestId,
            code: e.code,
            kind: e.kind,
            operationId: route.operationId,
          });
        return problem({
          status,
          code: e.code,
          title,
          detail: e.message,
          errors: e.field ? [{ field: e.field, message: e.message.replace(`${e.field}: `, '') }] : undefined,
          requestId,
          headers: retryAfter ? { 'retry-after': String(retryAfter) } : undefined,
        });
      }
      deps.logger.error('unexpected error', {
        requestId,
        operationId: route.operationId,
        errorName: (e as Error)?.name ?? typeof e,
      });
      return problem({
        status: 500,
        code: 'internal',
        title: 'Internal error',
        detail: `an unexpected error occurred; quote request id ${requestId} when reporting it`,
        requestId,
      });
    }
  };
}

/** The handler as deployed: middy + Powertools logger context around `createApiHandler`. */
export function createMiddyApiHandler(deps: ApiDeps) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
    .use(injectLambdaContext(deps.logger))
    .handler(createApiHandler(deps));
}
