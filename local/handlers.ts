/**
 * Finds the Lambda handlers that exist in this checkout and imports them. The local host must run
 * with whichever functions are built, so a missing one is reported, not fatal. Handlers read their
 * configuration at import (cold start), so the caller sets `process.env` first; Node caches a
 * module, so one process imports each handler once.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HttpHandler, HttpMethod, HttpRoute } from './http-host';

/** The four functions of the stack, by the folder they live in under `lambdas/`. */
export const FUNCTIONS = ['api', 'dispatcher', 'poller', 'sender'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** The repository root (this file is `local/handlers.ts`). */
export const REPO_ROOT = path.resolve(__dirname, '..');

export interface LoadedHandlers {
  handlers: Partial<Record<FunctionName, (...args: any[]) => unknown>>;
  /** Routes the admin API module exports, if any. */
  apiRoutes?: ReadonlyArray<{ method: string; path: string; auth?: boolean }>;
  missing: FunctionName[];
  /** Handlers that exist but could not be imported (e.g. their configuration is refused). */
  failed: Array<{ name: FunctionName; reason: string }>;
}

function handlerFile(name: FunctionName): string | undefined {
  for (const ext of ['ts', 'js', 'mjs']) {
    const file = path.join(REPO_ROOT, 'lambdas', name, `handler.${ext}`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The route list the admin API declares: `routes`/`apiRoutes` of its handler, or of `lambdas/api/routes.ts`. */
async function loadApiRoutes(handlerModule: Record<string, unknown>): Promise<LoadedHandlers['apiRoutes']> {
  const pick = (m: Record<string, unknown>) =>
    Array.isArray(m.routes) ? m.routes : Array.isArray(m.apiRoutes) ? m.apiRoutes : undefined;
  const own = pick(handlerModule);
  if (own) return own as LoadedHandlers['apiRoutes'];
  const file = path.join(REPO_ROOT, 'lambdas', 'api', 'routes.ts');
  if (!existsSync(file)) return undefined;
  return pick((await import(file)) as Record<string, unknown>) as LoadedHandlers['apiRoutes'];
}

/**
 * Imports every handler that exists. One that exists but cannot be imported is reported in `failed`
 * (with the reason, e.g. the variable its configuration refuses) so the rest of the stack still runs.
 */
export async function loadHandlers(only: readonly FunctionName[] = FUNCTIONS): Promise<LoadedHandlers> {
  const out: LoadedHandlers = { handlers: {}, missing: [], failed: [] };
  for (const name of only) {
    const file = handlerFile(name);
    if (!file) {
      out.missing.push(name);
      continue;
    }
    try {
      // A computed specifier: the handlers are written by others and may not exist at type-check time.
      const mod = (await import(file)) as Record<string, unknown>;
      if (typeof mod.handler !== 'function') {
        throw new Error(`lambdas/${name}/${path.basename(file)} does not export a function named "handler"`);
      }
      if (name === 'api') out.apiRoutes = await loadApiRoutes(mod);
      out.handlers[name] = mod.handler as (...args: any[]) => unknown;
    } catch (e) {
      out.failed.push({ name, reason: (e as Error)?.message ?? String(e) });
    }
  }
  return out;
}

/**
 * The admin API routes of DESIGN.md ("Admin API", fixed paths); used when the API module does not
 * export its own list. Everything but the callback and the console needs the bearer token.
 */
export const DESIGN_API_ROUTES: ReadonlyArray<{ method: HttpMethod; path: string; auth: boolean }> = [
  { method: 'GET', path: '/', auth: false },
  { method: 'GET', path: '/oauth/callback', auth: false },
  { method: 'POST', path: '/channels', auth: true },
  { method: 'GET', path: '/channels', auth: true },
  { method: 'GET', path: '/channels/{id}', auth: true },
  { method: 'PATCH', path: '/channels/{id}', auth: true },
  { method: 'DELETE', path: '/channels/{id}', auth: true },
  { method: 'POST', path: '/channels/{id}/authorize', auth: true },
  { method: 'GET', path: '/channels/{id}/health', auth: true },
];

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);

/** The route table for the API function (all routes invoke the one `api` Lambda, as in AWS). */
export function apiRouteTable(handler: HttpHandler, declared?: LoadedHandlers['apiRoutes']): HttpRoute[] {
  const list = declared ?? DESIGN_API_ROUTES;
  return list.map((r, i) => {
    const method = r.method.toUpperCase();
    if (!HTTP_METHODS.has(method))
      throw new Error(`api routes[${i}].method is not an HTTP method: ${r.method}`);
    return {
      method: method as HttpMethod,
      path: r.path,
      auth: r.auth ?? !(r.path === '/' || r.path === '/oauth/callback'),
      handler,
      functionName: 'api',
    };
  });
}

const problem = (status: number, title: string, detail: string) => ({
  statusCode: status,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({ type: 'about:blank', title, status, detail }),
});

/** Until the API function exists: a clear 501 for the admin API and a small page at `/`. */
export function placeholderRoutes(): HttpRoute[] {
  const notBuilt: HttpHandler = async (event) =>
    problem(
      501,
      'Not Implemented',
      `the admin API (lambdas/api/handler.ts) is not built yet: ${event.routeKey}`,
    );
  const page: HttpHandler = async () => ({
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body:
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x-channel (local)</title></head>' +
      '<body><main><h1>x-channel is running locally</h1>' +
      '<p>The admin API (<code>lambdas/api/handler.ts</code>) is not built yet, so there is no console to show.</p>' +
      '<p>See <code>.x-channel/local.json</code> for the queues and endpoints.</p></main></body></html>',
  });
  return [
    { method: 'GET', path: '/', auth: false, handler: page },
    { method: 'ANY', path: '/channels', auth: true, handler: notBuilt },
    { method: 'ANY', path: '/channels/{proxy+}', auth: true, handler: notBuilt },
    { method: 'ANY', path: '/oauth/callback', auth: false, handler: notBuilt },
  ];
}
