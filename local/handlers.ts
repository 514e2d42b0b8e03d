/**
 * Imports the Lambda entry points the CDK construct deploys (lib/handlers.ts) and builds the local
 * host's routes from the one route table (lib/routes.ts). Handlers read their configuration at import
 * (cold start), so the caller sets `process.env` first; Node caches a module, so one process imports
 * each handler once.
 */
import path from 'node:path';
import { HANDLERS, type HandlerName } from '../lib/handlers';
import { ROUTES } from '../lib/routes';
import type { HttpHandler, HttpRoute } from './http-host';

/** The functions of the stack, as the construct deploys them. */
export const FUNCTIONS = Object.keys(HANDLERS) as HandlerName[];
export type FunctionName = HandlerName;

/** The repository root (this file is `local/handlers.ts`). */
export const REPO_ROOT = path.resolve(__dirname, '..');

export interface LoadedHandlers {
  handlers: Partial<Record<FunctionName, (...args: any[]) => unknown>>;
  /** Handlers that could not be imported (e.g. their configuration is refused); they are off. */
  failed: Array<{ name: FunctionName; reason: string }>;
}

/**
 * Imports each entry point (`HANDLERS[name].entry`, its `exportName`). One that cannot be imported is
 * reported in `failed` with the reason (e.g. the variable its configuration refuses), so the rest of
 * the stack still runs.
 */
export async function loadHandlers(only: readonly FunctionName[] = FUNCTIONS): Promise<LoadedHandlers> {
  const out: LoadedHandlers = { handlers: {}, failed: [] };
  for (const name of only) {
    const { entry, exportName } = HANDLERS[name];
    try {
      // Imported only now: the entry reads process.env at import, which the caller has just set.
      const mod = (await import(path.join(REPO_ROOT, entry))) as Record<string, unknown>;
      if (typeof mod[exportName] !== 'function') {
        throw new Error(`${entry} does not export a function named "${exportName}"`);
      }
      out.handlers[name] = mod[exportName] as (...args: any[]) => unknown;
    } catch (e) {
      out.failed.push({ name, reason: (e as Error)?.message ?? String(e) });
    }
  }
  return out;
}

/** Answers for a route whose function is not running (still starting, left out, or failed to load). */
function functionOff(name: FunctionName): HttpHandler {
  return async () => ({
    statusCode: 503,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: `the ${name} function is not running (starting, or it failed to load: see the host log)`,
    }),
  });
}

/**
 * The local host's routes: every route of the table (lib/routes.ts), `admin` ones behind the bearer
 * token, each invoking the handler of its function — or a 503 naming the function when it is off.
 */
export function httpRoutes(handlers: Partial<Record<FunctionName, HttpHandler>>): HttpRoute[] {
  return ROUTES.map((r) => ({
    method: r.method,
    path: r.path,
    auth: r.auth === 'admin',
    handler: handlers[r.function] ?? functionOff(r.function),
    functionName: r.function,
  }));
}
