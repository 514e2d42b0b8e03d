/**
 * The poller's record loop around a composed runtime (./compose.ts): each poll-jobs record → one
 * `pollChannel`, under Powertools' BatchProcessor so one failing job never fails its batch. Tests, the
 * local runtime and the benchmark build it with their own runtime.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parsePollJob } from '../../adapters/aws/sqs-poll-jobs';
import { isChannelError } from '../../core/errors';
import { pollChannel, type PollOutcome } from '../../core/inbound/poll';
import { pollJobDedupKey } from '../../core/inbound/types';
import type { PollerRuntime } from './compose';

/** EMF metrics of one poll (namespace: core/metrics.ts). */
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
export function createRecordHandler(runtime: PollerRuntime) {
  const { deps, logger: log, metrics } = runtime;
  const metered = <T>(channelId: string, work: () => Promise<T>) =>
    runtime.spend ? runtime.spend.within(channelId, work) : work();
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
      const outcome = await metered(job.channelId, () =>
        pollChannel(deps, {
          channelId: job.channelId,
          owner: record.messageId,
          tick: job.tick,
          dueAt: job.dueAt,
        }),
      );
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
export function createApp(runtime: PollerRuntime) {
  const processor = new BatchProcessor(EventType.SQS);
  const onRecord = createRecordHandler(runtime);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(runtime.logger))
    .use(logMetrics(runtime.metrics))
    .handler((event: SQSEvent, context: Context) =>
      processPartialResponse(event, async (r: SQSRecord) => void (await onRecord(r)), processor, { context }),
    );
}
