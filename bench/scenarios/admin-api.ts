/**
 * Scenario 9, the admin API under load: the `api` function behind the local HTTP host, loaded by
 * autocannon from a second process (bench/load-admin.ts). Requests/s and p99 per route, and what must
 * be zero: 5xx, socket errors, unexpected non-2xx, lost updates under concurrent PATCHes.
 * Runs last: it starts the local host, which imports the API handler module once per process.
 */
import { benchAdminLoad } from '../load-admin';
import type { ScenarioContext } from '../types';

export async function benchAdminApi(ctx: ScenarioContext): Promise<Record<string, number>> {
  const flat = await benchAdminLoad({
    quick: ctx.quick,
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    progress: (m) => ctx.progress(m),
  });
  return Object.fromEntries(Object.entries(flat).map(([k, v]) => [k.replace(/^adminApi\./, ''), v]));
}
