/**
 * The admin API as one middy handler (STYLE.md §3). API Gateway (and the local host) match each
 * request against the one route table (lib/routes.ts) and put the matched `routeKey` into the event,
 * so this function never matches paths; it looks the operation up by that key. Around the operation:
 * - `routeByKey` (before): the operation for `event.routeKey`; a key the table does not give this
 *   function is a 404 (405 with `Allow` when the table has its path under other methods);
 * - `requireAdmin` (before): an `admin` route without the authorizer's `sub` claim is a 401 — defence
 *   in depth, API Gateway's JWT authorizer (or the local host) refuses it first; with `ADMIN_GROUP`,
 *   a token whose `cognito:groups` lacks that group is a 403 (the JWT authorizer cannot check groups);
 * - `securityHeaders` (after/onError, outermost): `nosniff` on every answer, HSTS over https
 *   (lambdas/shared/security-headers.ts);
 * - `problemOnError` (onError): every failure becomes problem+json. Bad input is always 4xx; an
 *   unknown error is a 500 with a request id, logged by name only (vendor errors can carry headers
 *   with tokens).
 */
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { assertNever, isChannelError, type ChannelError } from '../../core/errors';
import { routeKey, routesOf, type Route } from '../../lib/routes';
import type { ApiDeps } from './compose';
import { operations, RequestProblem, type ApiOperationId, type Operation } from './operations';
import { problem } from './problem';
import { securityHeaders } from '../shared/security-headers';

/** The Lambda context as the operation sees it: `routeByKey` and `requireAdmin` fill in `api`. */
export interface ApiContext extends Context {
  api: { route: Route; operation: Operation; requestId: string; sub: string | null };
}

type ApiMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, ApiContext>;

const byKey = new Map<string, { route: Route; operation: Operation }>(
  routesOf('api').map((r) => [
    routeKey(r),
    { route: r, operation: operations[r.operationId as ApiOperationId] },
  ]),
);

function requestIdOf(event: APIGatewayProxyEventV2, context?: Context): string {
  return event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
}

/** Finds the operation for `event.routeKey` (set by API Gateway and the local host). */
export function routeByKey(): ApiMiddleware {
  return {
    before(request) {
      const { event, context } = request;
      const requestId = requestIdOf(event, context);
      const found = byKey.get(event.routeKey ?? '$default');
      if (found) {
        context.api = { ...found, requestId, sub: null };
        return;
      }
      const [method, path] = (event.routeKey ?? '$default').split(' ');
      const allowed = routesOf('api')
        .filter((r) => path !== undefined && r.path === path)
        .map((r) => r.method);
      throw new RequestProblem(
        allowed.length
          ? problem({
              status: 405,
              code: 'method_not_allowed',
              title: 'Method not allowed',
              detail: `${method} is not allowed on ${path.slice(0, 200)}; allowed: ${allowed.join(', ')}`,
              requestId,
              headers: { allow: allowed.join(', ') },
            })
          : problem({
              status: 404,
              code: 'not_found',
              title: 'Not found',
              detail: `no route for ${event.requestContext?.http?.method ?? method} ${(event.rawPath ?? '').slice(0, 200)}`,
              requestId,
            }),
      );
    },
  };
}

/**
 * The groups of a `cognito:groups` claim. API Gateway's HTTP API JWT authorizer renders an array claim as
 * one string, the items space-separated in brackets (`"[admins ops]"`); a JSON array (other hosts) and a
 * single name are read too. Cognito group names have no whitespace, so splitting on it is exact.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim !== 'string') return [];
  const inner = /^\[(.*)\]$/s.exec(claim.trim());
  return (inner ? inner[1] : claim).split(/\s+/).filter(Boolean);
}

/**
 * Admin routes need the `sub` claim of the JWT authorizer (the local host sets the same claims), and,
 * when `adminGroup` is given, that group in `cognito:groups`.
 */
export function requireAdmin(adminGroup?: string): ApiMiddleware {
  return {
    before({ event, context }) {
      const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
        ?.authorizer?.jwt?.claims;
      const sub = typeof claims?.sub === 'string' && claims.sub ? claims.sub : null;
      context.api.sub = sub;
      if (context.api.route.auth === 'admin' && !sub) {
        throw new RequestProblem(
          problem({
            status: 401,
            code: 'unauthenticated',
            title: 'Authentication required',
            detail: 'send Authorization: Bearer <token> of an admin',
            errors: [{ field: 'header.authorization', message: 'missing or invalid bearer token' }],
            requestId: context.api.requestId,
            headers: { 'www-authenticate': 'Bearer' },
          }),
        );
      }
      if (
        context.api.route.auth === 'admin' &&
        adminGroup &&
        !groupsOf(claims?.['cognito:groups']).includes(adminGroup)
      ) {
        throw new RequestProblem(
          problem({
            status: 403,
            code: 'not_an_admin',
            title: 'Not an admin',
            detail: `this user is not in the admin group ${adminGroup}; ask an operator to add them in Cognito`,
            errors: [{ field: 'header.authorization', message: `cognito:groups lacks ${adminGroup}` }],
            requestId: context.api.requestId,
          }),
        );
      }
    },
  };
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

/** Maps every failure to problem+json: request problems as built, `ChannelError` by kind, the rest 500. */
export function problemOnError(deps: Pick<ApiDeps, 'logger'>): ApiMiddleware {
  return {
    onError(request) {
      const e = request.error;
      const requestId = request.context.api?.requestId ?? requestIdOf(request.event, request.context);
      const operationId = request.context.api?.route.operationId;
      if (e instanceof RequestProblem) {
        request.response = e.response;
        return;
      }
      if (isChannelError(e)) {
        const { status, title, retryAfter } = statusOf(e);
        if (status >= 500)
          deps.logger.warn('request failed', { requestId, code: e.code, kind: e.kind, operationId });
        request.response = problem({
          status,
          code: e.code,
          title,
          detail: e.message,
          errors: e.field ? [{ field: e.field, message: e.message.replace(`${e.field}: `, '') }] : undefined,
          requestId,
          headers: retryAfter ? { 'retry-after': String(retryAfter) } : undefined,
        });
        return;
      }
      deps.logger.error('unexpected error', { requestId, operationId, errorName: e?.name ?? typeof e });
      request.response = problem({
        status: 500,
        code: 'internal',
        title: 'Internal error',
        detail: `an unexpected error occurred; quote request id ${requestId} when reporting it`,
        requestId,
      });
    },
  };
}

/** The api function as Lambda (and the local host) calls it. */
export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** The handler as deployed: Powertools logger context, routing, auth and problem mapping around the operation. */
export function createApp(deps: ApiDeps): ApiHandler {
  const app = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, ApiContext>()
    // outermost: its after/onError run last, on whatever answer the rest produced
    .use(securityHeaders<ApiContext>() as ApiMiddleware)
    .use(injectLambdaContext(deps.logger))
    .use(routeByKey())
    .use(requireAdmin(deps.config.ADMIN_GROUP))
    .use(problemOnError(deps))
    .handler((event, context) => {
      const { operation, requestId, sub } = context.api;
      return operation({
        event,
        deps,
        params: (event.pathParameters ?? {}) as Record<string, string>,
        sub,
        requestId,
      });
    });
  // Lambda passes (event, context); middy's third argument only serves response streaming, and
  // `routeByKey` adds `api` to the context before anything reads it.
  return app as unknown as ApiHandler;
}
