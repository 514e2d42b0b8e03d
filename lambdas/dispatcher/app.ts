/**
 * The dispatcher's scheduled (EventBridge) handler around a composed runtime (./compose.ts): one tick
 * enqueues a poll job per due channel and, every few ticks, publishes the channel gauges the alarms
 * watch. Tests, the local runtime and the benchmark build it with their own runtime.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { tickTime } from '../../core/inbound/dispatch';
import { CHANNEL_GAUGES } from '../../core/metrics';
import type { DispatcherRuntime } from './compose';

/** Channel gauges are published on ticks whose UTC minute is a multiple of this. */
export const GAUGE_EVERY_MINUTES = 5;

/** The scheduled (EventBridge) handler. A failed tick throws: the next tick (1 min) redoes it. */
export function createApp(runtime: DispatcherRuntime) {
  return middy()
    .use(injectLambdaContext(runtime.logger))
    .use(logMetrics(runtime.metrics))
    .handler(async (event: unknown) => {
      const started = Date.now();
      // The schedule's time, not the invocation's: a retried invocation of the same tick then sends
      // jobs with the same dedup keys (dispatchDueChannels ignores a time in the future or too old).
      const time = (event as { time?: unknown } | undefined)?.time;
      const tick = tickTime(runtime.clock.now(), typeof time === 'string' ? new Date(time) : undefined);
      // The gauges read the whole list index (every channel item: ~1 RRU per 10 channels), so they
      // run on every GAUGE_EVERY_MINUTES-th tick only — the alarm on them uses 5-minute periods —
      // and in parallel with the dispatch, never on its critical path.
      const withGauges = tick.getUTCMinutes() % GAUGE_EVERY_MINUTES === 0;
      // Alerts (core/alerts/) are evaluated on the same ticks and share the gauges' channel read; a
      // failed evaluation is logged and never fails the dispatch (the next one redoes it).
      const [outcome, evaluated] = await Promise.all([
        runtime.tick(tick),
        withGauges
          ? runtime.alerts().catch(async (e: unknown) => {
              runtime.logger.error('alert evaluation failed', { errorName: (e as Error)?.name });
              return { report: undefined, gauges: await runtime.gauges() };
            })
          : undefined,
      ]);
      const gauges = evaluated?.gauges;
      const alerts = evaluated?.report;
      if (alerts && (alerts.opened.length || alerts.cleared.length || alerts.failed.length)) {
        runtime.logger.info('alerts changed', {
          opened: alerts.opened,
          cleared: alerts.cleared,
          retried: alerts.retried,
          failed: alerts.failed,
          open: alerts.open,
        });
      }
      runtime.metrics.addMetric('ChannelsDispatched', MetricUnit.Count, outcome.enqueued);
      if (gauges) {
        runtime.metrics.addMetric(CHANNEL_GAUGES.degraded, MetricUnit.Count, gauges.degraded);
        runtime.metrics.addMetric(CHANNEL_GAUGES.needsReauth, MetricUnit.Count, gauges.needsReauth);
      }
      runtime.logger.info('dispatch tick', { ...outcome, ...gauges, ms: Date.now() - started });
      return outcome;
    });
}
