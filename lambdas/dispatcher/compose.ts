/**
 * Builds the dispatcher's adapters once per cold start and the scheduled handler around
 * `dispatchDueChannels`. `composeDispatcher(config).tick()` is what the benchmark times for 10,000
 * channels (`dispatcher.channels10kMs`).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { countChannelsByStatus, createDynamoPollState } from '../../adapters/aws/dynamo-poll-state';
import { createSqsPollJobs } from '../../adapters/aws/sqs-poll-jobs';
import { dispatchDueChannels, tickTime, type DispatchOutcome } from '../../core/inbound/dispatch';
import { CHANNEL_GAUGES, METRICS_NAMESPACE, METRICS_SERVICE_NAME } from '../../core/metrics';
import { systemClock, type Clock } from '../../core/ports';
import { logger as sharedLogger } from '../shared/logger';
import type { DispatcherConfig } from './config';

export interface DispatcherComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
}

/** Channel gauges are published on ticks whose UTC minute is a multiple of this. */
export const GAUGE_EVERY_MINUTES = 5;

export interface DispatcherRuntime {
  config: DispatcherConfig;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** One tick: list every due channel (KEYS_ONLY query) and enqueue its poll job; `at` = the schedule's time. */
  tick(at?: Date): Promise<DispatchOutcome>;
  /** Channel gauges (`ChannelsDegraded`, `ChannelsNeedsReauth`), read from the list index. */
  gauges(): Promise<{ degraded: number; needsReauth: number }>;
}

export function composeDispatcher(
  config: DispatcherConfig,
  overrides: DispatcherComposeOverrides = {},
): DispatcherRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const due = createDynamoPollState({ client: clients.doc, tableName: config.TABLE_NAME, clock });
  const jobs = createSqsPollJobs({
    client: clients.sqs,
    queueUrl: config.POLL_JOBS_QUEUE_URL,
    concurrency: config.DISPATCH_CONCURRENCY,
  });
  return {
    config,
    clock,
    logger: overrides.logger ?? sharedLogger,
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? METRICS_SERVICE_NAME,
    }),
    tick: (at) => dispatchDueChannels({ clock, due, jobs }, at),
    async gauges() {
      const counts = await countChannelsByStatus({ client: clients.doc, tableName: config.TABLE_NAME });
      return { degraded: counts.degraded ?? 0, needsReauth: counts.needs_reauth ?? 0 };
    },
  };
}

/** The scheduled (EventBridge) handler. A failed tick throws: the next tick (1 min) redoes it. */
export function createDispatcherHandler(runtime: DispatcherRuntime) {
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
      const [outcome, gauges] = await Promise.all([
        runtime.tick(tick),
        withGauges ? runtime.gauges() : undefined,
      ]);
      runtime.metrics.addMetric('ChannelsDispatched', MetricUnit.Count, outcome.enqueued);
      if (gauges) {
        runtime.metrics.addMetric(CHANNEL_GAUGES.degraded, MetricUnit.Count, gauges.degraded);
        runtime.metrics.addMetric(CHANNEL_GAUGES.needsReauth, MetricUnit.Count, gauges.needsReauth);
      }
      runtime.logger.info('dispatch tick', { ...outcome, ...gauges, ms: Date.now() - started });
      return outcome;
    });
}
