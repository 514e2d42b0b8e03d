/**
 * The one route table of x-channel's HTTP API (DESIGN.md "Admin API", plus the admin console's
 * assets), as data. Three readers, one source:
 * - the CDK construct registers exactly these routes on the HTTP API, with the JWT authorizer on the
 *   `admin` ones and a cdk-nag acknowledgement (`publicBecause`) on the `public` ones;
 * - the local host (`local/http-host.ts`) serves them, refusing `admin` routes without the bearer token;
 * - the function named by `function` dispatches on the `routeKey` API Gateway (and the local host)
 *   puts into the event — `lambdas/api/operations.ts` implements one operation per `operationId`.
 * Tests hold docs/openapi.yaml, the CDK template and the local host to this table.
 *
 * This module must stay free of aws-cdk-lib imports and of handler code: the construct, the local
 * runtime and the Lambda bundles all import it.
 *
 * @example
 * // a route X calls without a token, served by its own function:
 * { method: 'POST', path: '/x/webhook', auth: 'public', function: 'webhook', operationId: 'postXWebhook',
 *   publicBecause: 'X posts account activity here; the signature header is the check' }
 */
import type { HandlerName } from './handlers';

/** The methods a route may declare (API Gateway route key syntax). */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RouteBase {
  readonly method: RouteMethod;
  /** API Gateway route path: `/channels/{id}`, `/assets/{proxy+}` (greedy, last segment only). */
  readonly path: string;
  /** The Lambda function (lib/handlers.ts) that serves the route. */
  readonly function: HandlerName;
  /** docs/openapi.yaml's `operationId`; also the name of the route's implementation. */
  readonly operationId: string;
}

/** A route behind the JWT authorizer: only a signed-in admin reaches the function. */
export interface AdminRoute extends RouteBase {
  readonly auth: 'admin';
}

/** A route anyone may call; says why it must be public (the construct's cdk-nag acknowledgement). */
export interface PublicRoute extends RouteBase {
  readonly auth: 'public';
  readonly publicBecause: string;
}

/** One route of the HTTP API. */
export type Route = AdminRoute | PublicRoute;

/** `GET /channels/{id}`: API Gateway's `routeKey` of a route, as it appears in the event. */
export type RouteKey = `${RouteMethod} ${string}`;

/** Every route of the HTTP API. */
export const ROUTES = [
  {
    method: 'GET',
    path: '/',
    auth: 'public',
    function: 'api',
    operationId: 'getConsole',
    publicBecause: 'the admin console page must load before anyone has signed in',
  },
  {
    method: 'GET',
    path: '/assets/{proxy+}',
    auth: 'public',
    function: 'api',
    operationId: 'getConsoleAsset',
    publicBecause: 'the console scripts and styles must load before anyone has signed in',
  },
  { method: 'POST', path: '/channels', auth: 'admin', function: 'api', operationId: 'createChannel' },
  { method: 'GET', path: '/channels', auth: 'admin', function: 'api', operationId: 'listChannels' },
  { method: 'GET', path: '/channels/{id}', auth: 'admin', function: 'api', operationId: 'getChannel' },
  { method: 'PATCH', path: '/channels/{id}', auth: 'admin', function: 'api', operationId: 'patchChannel' },
  { method: 'DELETE', path: '/channels/{id}', auth: 'admin', function: 'api', operationId: 'deleteChannel' },
  {
    method: 'POST',
    path: '/channels/{id}/authorize',
    auth: 'admin',
    function: 'api',
    operationId: 'authorizeChannel',
  },
  {
    method: 'GET',
    path: '/channels/{id}/health',
    auth: 'admin',
    function: 'api',
    operationId: 'getChannelHealth',
  },
  {
    method: 'GET',
    path: '/channels/{id}/cost',
    auth: 'admin',
    function: 'api',
    operationId: 'getChannelCost',
  },
  { method: 'GET', path: '/settings', auth: 'admin', function: 'api', operationId: 'getSettings' },
  { method: 'GET', path: '/alerts', auth: 'admin', function: 'api', operationId: 'listAlerts' },
  { method: 'PATCH', path: '/settings', auth: 'admin', function: 'api', operationId: 'patchSettings' },
  {
    method: 'GET',
    path: '/oauth/callback',
    auth: 'public',
    function: 'api',
    operationId: 'oauthCallback',
    publicBecause: 'X redirects the browser here with no bearer token; the single-use state is the check',
  },
  {
    method: 'GET',
    path: '/x/webhook',
    auth: 'public',
    function: 'webhook',
    operationId: 'getXWebhook',
    publicBecause: 'X sends its CRC challenge here without a token; the answer is an HMAC only X can check',
  },
  {
    method: 'POST',
    path: '/x/webhook',
    auth: 'public',
    function: 'webhook',
    operationId: 'postXWebhook',
    publicBecause:
      'X posts account activity here without a token; the x-twitter-webhooks-signature is the check',
  },
] as const satisfies readonly Route[];

/** The `operationId` of every route in the table. */
export type OperationId = (typeof ROUTES)[number]['operationId'];

/** The route key API Gateway puts into `event.routeKey` for `route`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): RouteKey {
  return `${route.method} ${route.path}`;
}

/** The routes served by one function. */
export function routesOf(fn: HandlerName): readonly Route[] {
  return (ROUTES as readonly Route[]).filter((r) => r.function === fn);
}
