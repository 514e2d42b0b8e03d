/**
 * The scheduled retry of pending revocations (issue 19 item 2; core/revocations.ts), run by the api
 * function when EventBridge Scheduler invokes it with `{source: 'x-channel.revocation-retry'}` (locally,
 * `npm start`'s scheduler sends an EventBridge "Scheduled Event"). The api function is its home because it
 * already holds exactly what a revocation needs (the token secrets' lifecycle, the table, the X app
 * credentials); the public webhook function holds no token and keeps it that way.
 *
 * A tick tries every revocation that is due, oldest first, while the function has time for another
 * (one attempt against a hung X takes up to the X client's timeout); a failed tick throws, and the next
 * one redoes it. Logs carry ids, counts and error codes, never a token.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { REVOCATION_RETRY_SOURCE, retryDueRevocations, type RetryReport } from '../../core/revocations';
import { DEFAULT_X_TIMEOUT_MS } from '../../adapters/x/client';
import type { ApiDeps } from './compose';

/** Whether a Lambda event is the revocation schedule's, not an HTTP request. */
export const isRevocationRetryEvent = (event: unknown): boolean =>
  Boolean(
    event &&
    typeof event === 'object' &&
    !('requestContext' in event) &&
    ('detail-type' in event || (event as { source?: unknown }).source === REVOCATION_RETRY_SOURCE),
  );

/**
 * Room for one more attempt: a revoke call that hangs until the X client's timeout, plus the writes. (An
 * attempt that fails stops at its first failed call; a success is two quick calls. The api function's
 * 15 s timeout would never fit two hung calls, so this is the most that lets a second attempt run.)
 */
export const ATTEMPT_BUDGET_MS = DEFAULT_X_TIMEOUT_MS + 1_000;

/** One tick; `context` bounds it by the function's remaining time. */
export function createRevocationRetryHandler(deps: ApiDeps) {
  return async (
    _event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<RetryReport> => {
    if (!deps.revocations) throw new Error('the api has no revocation store');
    let first = true;
    const report = await retryDueRevocations(
      { revocations: deps.revocations, vault: deps.vault, oauth: deps.oauth, clock: deps.clock },
      {
        // the first attempt always runs (a tick that never tries would leave X's recovery unnoticed)
        hasTimeFor: () => {
          const ok = first || !context || context.getRemainingTimeInMillis() > ATTEMPT_BUDGET_MS;
          first = false;
          return ok;
        },
      },
    );
    for (const f of report.failed)
      deps.logger.warn('revocation still pending', {
        revocationId: f.id,
        code: f.code,
        attempts: f.attempts,
      });
    if (report.due || report.pending)
      deps.logger.info('revocation retry tick', {
        pending: report.pending,
        due: report.due,
        revoked: report.revoked.length,
        failed: report.failed.length,
        deferred: report.deferred,
      });
    return report;
  };
}

/** The tick as deployed: Powertools logger context around {@link createRevocationRetryHandler}. */
export function createRevocationRetryApp(deps: ApiDeps) {
  return middy().use(injectLambdaContext(deps.logger)).handler(createRevocationRetryHandler(deps));
}
