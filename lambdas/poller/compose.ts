/**
 * Builds the poller's adapters from its config, once per cold start (STYLE.md §1, §4), and the SQS
 * handler around `pollChannel`. Lambda, the local runtime, integration tests and the benchmark all call
 * this; only endpoints (and in tests the clock, X origin and fault hooks) differ.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoDeliveredLedger } from '../../adapters/aws/dynamo-delivered';
import { createDynamoFollows } from '../../adapters/aws/dynamo-follows';
import { createDynamoPollState } from '../../adapters/aws/dynamo-poll-state';
import { createSqsInboundPublisher } from '../../adapters/aws/sqs-inbound-publisher';
import { parsePollJob } from '../../adapters/aws/sqs-poll-jobs';
import { createXReaderFactory } from '../../adapters/x/x-reader';
import { isChannelError } from '../../core/errors';
import { createLedgerPublisher } from '../../core/inbound/delivered';
import { pollChannel, type PollDeps, type PollOutcome } from '../../core/inbound/poll';
import { RecentRateBlocks } from '../../core/inbound/rate-blocks';
import { pollJobDedupKey, type InboundPublisher } from '../../core/inbound/types';
import { systemClock, type Clock, type TokenProvider } from '../../core/ports';
import { logger as sharedLogger } from '../shared/logger';
import { composeTokenProvider, registering } from '../shared/tokens';
import type { PollerConfig } from './config';

import { METRICS_NAMESPACE } from '../../core/metrics';

export interface PollerComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
  tokens?: TokenProvider;
  /** Wraps the inbound publisher (tests inject crashes here). */
  wrapPublisher?: (p: InboundPublisher) => InboundPublisher;
  /** Counts X requests (tests, benchmark). */
  onXRequest?: (info: { method: string; path: string }) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface PollerRuntime {
  config: PollerConfig;
  deps: PollDeps;
  logger: Logger;
  metrics: Metrics;
}

export function composePoller(config: PollerConfig, overrides: PollerComposeOverrides = {}): PollerRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const log = overrides.logger ?? sharedLogger;
  const tableName = config.TABLE_NAME;
  const channels = createDynamoChannelStore({ client: clients.doc, tableName, clock });
  const tokens = overrides.tokens ?? composeTokenProvider({ config, clients, channels, clock });
  const sqsPublisher = createSqsInboundPublisher({ client: clients.sqs, queueUrl: config.INBOUND_QUEUE_URL });
  // the delivered ledger in front: an item the webhook (or an earlier poll) delivered is not published again
  const publisher = createLedgerPublisher({
    ledger: createDynamoDeliveredLedger({
      client: clients.doc,
      tableName,
      ttlHours: config.DELIVERED_TTL_HOURS,
      clock,
    }),
    publisher: overrides.wrapPublisher ? overrides.wrapPublisher(sqsPublisher) : sqsPublisher,
    clock,
    onRecordFailed: ({ count }) => log.warn('delivered ledger not updated after publish', { count }),
  });
  const deps: PollDeps = {
    clock,
    channels,
    state: createDynamoPollState({ client: clients.doc, tableName, clock }),
    tokens: registering(tokens),
    openX: createXReaderFactory({ apiBaseUrl: config.X_API_BASE_URL, onRequest: overrides.onXRequest }),
    publisher,
    follows: createDynamoFollows({ client: clients.doc, tableName }),
    tier: config.X_TIER,
    limits: {
      maxMentionPages: config.POLL_MAX_PAGES,
      maxDmPages: config.POLL_MAX_PAGES,
      timeBudgetMs: config.POLL_TIME_BUDGET_MS,
      leaseMs: config.POLL_LEASE_MS,
      followDailyCap: config.FOLLOW_DAILY_CAP,
    },
    sleep: overrides.sleep,
    // once per cold start: a 429 this container met still blocks when storing it failed
    rateBlocks: new RecentRateBlocks(),
    log: { info: (m, e) => log.info(m, e ?? {}), warn: (m, e) => log.warn(m, e ?? {}) },
  };
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'x-channel',
  });
  return { config, deps, logger: log, metrics };
}

/** EMF metrics of one poll (namespace `XChannel`). */
export function recordPollMetrics(metrics: Metrics, outcome: PollOutcome): void {
  if (outcome.mentionsDelivered)
    metrics.addMetric('MentionsDelivered', MetricUnit.Count, outcome.mentionsDelivered);
  if (outcome.dmsDelivered) metrics.addMetric('DmsDelivered', MetricUnit.Count, outcome.dmsDelivered);
  if (outcome.followed) metrics.addMetric('UsersFollowed', MetricUnit.Count, outcome.followed);
  for (const error of outcome.errors) {
    const single = metrics.singleMetric();
    single.addDimension('code', error.code);
    single.addMetric('PollErrors', MetricUnit.Count, 1);
  }
}

/** One poll-jobs record → one `pollChannel`. Throws only what SQS should retry. */
export function createPollRecordHandler(runtime: PollerRuntime) {
  const { deps, logger: log, metrics } = runtime;
  return async (record: SQSRecord): Promise<PollOutcome | undefined> => {
    let job;
    try {
      job = parsePollJob(record.body);
    } catch (e) {
      // a body that can never be a job: retrying cannot help, so ack it and say why
      log.error('invalid poll job', {
        messageId: record.messageId,
        field: isChannelError(e) ? e.field : undefined,
      });
      return undefined;
    }
    try {
      // the SQS message id: a redelivery of the same job may take its own claim back at once
      const outcome = await pollChannel(deps, {
        channelId: job.channelId,
        owner: record.messageId,
        tick: job.tick,
        dueAt: job.dueAt,
      });
      recordPollMetrics(metrics, outcome);
      log.info('poll done', {
        channelId: job.channelId,
        status: outcome.status,
        reason: outcome.reason,
        dedupKey: job.dedupKey ?? pollJobDedupKey(job),
        mentions: outcome.mentionsDelivered,
        dms: outcome.dmsDelivered,
        nextPollAt: outcome.nextPollAt,
      });
      return outcome;
    } catch (e) {
      const code = isChannelError(e) ? e.code : 'internal';
      recordPollMetrics(metrics, {
        status: 'polled',
        mentionsDelivered: 0,
        dmsDelivered: 0,
        followed: 0,
        errors: [{ endpoint: 'poll', code, kind: isChannelError(e) ? e.kind : 'retryable' }],
        degraded: false,
      });
      // `errorCode`, not `code`: the logger masks a bare `code` key (OAuth authorization codes)
      log.warn('poll failed, job will be retried', { channelId: job.channelId, errorCode: code });
      throw isChannelError(e) ? e : new Error('poll failed');
    }
  };
}

/** The Lambda handler: Powertools BatchProcessor, so one failing job never fails its batch. */
export function createPollerHandler(runtime: PollerRuntime) {
  const processor = new BatchProcessor(EventType.SQS);
  const onRecord = createPollRecordHandler(runtime);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(runtime.logger))
    .use(logMetrics(runtime.metrics))
    .handler((event: SQSEvent, context: Context) =>
      processPartialResponse(event, async (r: SQSRecord) => void (await onRecord(r)), processor, { context }),
    );
}
