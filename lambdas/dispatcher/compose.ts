/**
 * Builds the dispatcher's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the
 * local runtime, integration tests and the benchmark all call this; `compose(config).tick()` is what
 * the benchmark times for 10,000 channels (`dispatcher.channels10kMs`). The handler: ./app.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { countChannelsByStatus, createDynamoPollState } from '../../adapters/aws/dynamo-poll-state';
import { createSqsPollJobs } from '../../adapters/aws/sqs-poll-jobs';
import { dispatchDueChannels, type DispatchOutcome } from '../../core/inbound/dispatch';
import { systemClock, type Clock } from '../../core/ports';
import { logger as sharedLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { DispatcherConfig } from './config';

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
}

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

export function compose(config: DispatcherConfig, overrides: ComposeOverrides = {}): DispatcherRuntime {
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
    metrics: createMetrics(),
    tick: (at) => dispatchDueChannels({ clock, due, jobs }, at),
    async gauges() {
      const counts = await countChannelsByStatus({ client: clients.doc, tableName: config.TABLE_NAME });
      return { degraded: counts.degraded ?? 0, needsReauth: counts.needs_reauth ?? 0 };
    },
  };
}
