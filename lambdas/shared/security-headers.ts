/**
 * Security headers on every answer of an HTTP function (issue 19 item 6), added in one place per
 * function as the outermost middy middleware, so its `after` and `onError` run last and see the final
 * response whatever built it (operation JSON, problem+json, the callback page, console assets):
 * - `X-Content-Type-Options: nosniff` always;
 * - `Strict-Transport-Security` only when the request came over https: API Gateway's
 *   `X-Forwarded-Proto` (the local host sets `http`), or without that header API Gateway's own
 *   domain (API Gateway only answers https). Local runs over http never send HSTS.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export const HSTS = 'max-age=31536000; includeSubDomains';

/** True when the client reached us over https. */
export function cameOverHttps(event: Pick<APIGatewayProxyEventV2, 'headers' | 'requestContext'>): boolean {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'x-forwarded-proto');
  const proto = key ? headers[key] : undefined;
  if (proto !== undefined) return proto.split(',')[0].trim().toLowerCase() === 'https';
  const domain = event.requestContext?.domainName;
  return Boolean(domain) && !/^(localhost|127\.|\[::1\])/i.test(domain!);
}

/** The headers `securityHeaders` adds for this request. */
export function securityHeadersFor(event: APIGatewayProxyEventV2): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    ...(cameOverHttps(event) ? { 'strict-transport-security': HSTS } : {}),
  };
}

/**
 * Adds the headers to the response, as a copy (cached answers such as console assets stay untouched).
 * A bare string result is what API Gateway answers for it: 200, JSON, that body.
 */
export function securityHeaders<C extends Context = Context>(): MiddlewareObj<
  APIGatewayProxyEventV2,
  unknown,
  Error,
  C
> {
  const apply = (request: { event: APIGatewayProxyEventV2; response: unknown }) => {
    const res = request.response;
    if (res === undefined || res === null) return;
    const structured =
      typeof res === 'object'
        ? (res as { headers?: Record<string, unknown> })
        : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: String(res) };
    request.response = {
      ...structured,
      headers: { ...structured.headers, ...securityHeadersFor(request.event) },
    };
  };
  return { after: apply, onError: apply };
}
