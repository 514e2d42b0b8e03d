/**
 * Builds the dispatcher's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the
 * local runtime, integration tests and the benchmark all call this; `compose(config).tick()` is what
 * the benchmark times for 10,000 channels (`dispatcher.channels10kMs`). The handler: ./app.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createAlertSources } from '../../adapters/aws/alert-sources';
import { awsClientsFromConfig, standInCredentials, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoAlertStore } from '../../adapters/aws/dynamo-alerts';
import {
  createEventBridgeAlertPublisher,
  createEventBridgeClient,
} from '../../adapters/aws/eventbridge-alerts';
import { alertConditions } from '../../core/alerts/conditions';
import { reconcileAlerts, type AlertPublisher, type AlertReport } from '../../core/alerts/evaluate';
import { gatherAlertInputs, type TrafficMemory } from '../../core/alerts/inputs';
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
  /** Where alert events go (default: EventBridge, the stand-in locally). */
  alertPublisher?: AlertPublisher;
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
  /** One alert evaluation (core/alerts/): fires and clears alerts; its channel read also gives the gauges. */
  alerts(): Promise<{ report: AlertReport; gauges: { degraded: number; needsReauth: number } }>;
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
  const alertStore = createDynamoAlertStore({ client: clients.doc, tableName: config.TABLE_NAME });
  const logger = overrides.logger ?? sharedLogger;
  const sources = createAlertSources({
    client: clients.doc,
    sqs: clients.sqs,
    tableName: config.TABLE_NAME,
    dlqUrls: {
      pollJobs: config.POLL_JOBS_DLQ_URL,
      inbound: config.INBOUND_DLQ_URL,
      outbound: config.OUTBOUND_DLQ_URL,
      results: config.RESULTS_DLQ_URL,
    },
  });
  // A failed backfill of the budget list (a deployment upgraded from before it) must not stop the other
  // alerts: it is logged and tried again on the next evaluation.
  const alertSources: typeof sources = {
    ...sources,
    listBudgetedChannels: (ids, at) =>
      sources.listBudgetedChannels(ids, at).catch((e: unknown) => {
        logger.error('budget list backfill failed', { errorName: (e as Error)?.name });
        return [];
      }),
  };
  const publisher =
    overrides.alertPublisher ??
    createEventBridgeAlertPublisher({
      client: createEventBridgeClient({
        region: config.AWS_REGION,
        endpoint: config.XC_EVENTBRIDGE_ENDPOINT,
        ...(config.XC_EVENTBRIDGE_ENDPOINT ? { credentials: standInCredentials() } : {}),
      }),
      eventBusName: config.ALERT_EVENT_BUS,
      deployment: config.ALERT_DEPLOYMENT ?? config.TABLE_NAME,
    });
  const traffic: TrafficMemory = new Map();
  const settings = {
    silenceHours: config.ALERT_SILENCE_HOURS,
    minDailyInbound: config.ALERT_SILENCE_MIN_DAILY,
  };
  return {
    config,
    clock,
    logger,
    metrics: createMetrics(),
    tick: (at) => dispatchDueChannels({ clock, due, jobs }, at),
    async gauges() {
      const counts = await countChannelsByStatus({ client: clients.doc, tableName: config.TABLE_NAME });
      return { degraded: counts.degraded ?? 0, needsReauth: counts.needs_reauth ?? 0 };
    },
    async alerts() {
      const inputs = await gatherAlertInputs(alertSources, clock.now(), settings, traffic);
      const report = await reconcileAlerts(
        { store: alertStore, publisher, clock, consoleUrl: config.CONSOLE_URL },
        alertConditions(inputs),
      );
      const count = (status: string) => inputs.channels.filter((c) => c.status === status).length;
      return { report, gauges: { degraded: count('degraded'), needsReauth: count('needs_reauth') } };
    },
  };
}
