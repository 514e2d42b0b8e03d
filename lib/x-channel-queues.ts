/**
 * The queues room of {@link XChannel}: the four queues of `adapters/aws/queues.ts`, each with its
 * dead-letter queue, all encrypted with the data key and refusing plain HTTP. The topology (FIFO, dedup
 * and throughput settings, receive counts, timeouts, retention) comes from that table, which the local
 * runtime reads too; test/integration/stand-ins/queues-match-cdk.test.ts holds the two together.
 */
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DLQ_RETENTION_SECONDS, QUEUES, type QueueRole, type QueueSpec } from '../adapters/aws/queues';
import { HANDLERS } from './handlers';

/** The queues of x-channel, each with its dead-letter queue. */
export interface XChannelQueues {
  readonly pollJobs: sqs.Queue;
  readonly pollJobsDlq: sqs.Queue;
  readonly inbound: sqs.Queue;
  readonly inboundDlq: sqs.Queue;
  readonly outbound: sqs.Queue;
  readonly outboundDlq: sqs.Queue;
  readonly results: sqs.Queue;
  readonly resultsDlq: sqs.Queue;
}

/** What the queues take from the construct's props. */
export interface QueuesOptions {
  /** Customer-managed key of every queue and dead-letter queue. */
  readonly dataKey: kms.IKey;
  /** @default - `QUEUES.inbound.fifo` */
  readonly inboundFifo?: boolean;
  /** @default - `QUEUES.outbound.fifo` */
  readonly outboundFifo?: boolean;
  /** Retention of inbound, outbound and results. @default - per queue from `QUEUES` */
  readonly retention?: Duration;
}

/** `pollJobs` → `PollJobs`: construct ids are a contract (renaming one replaces the resource). */
export const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * AWS: an event source queue's visibility timeout should be at least 6x the function timeout, so a
 * batch retried by Lambda's poller is not handed out again while a slow invocation still runs.
 */
const CONSUMER_TIMEOUT_S: Partial<Record<QueueRole, number>> = {
  pollJobs: HANDLERS.poller.timeoutSeconds,
  outbound: HANDLERS.sender.timeoutSeconds,
};

const DEDUP_SCOPE: Record<NonNullable<QueueSpec['deduplicationScope']>, sqs.DeduplicationScope> = {
  messageGroup: sqs.DeduplicationScope.MESSAGE_GROUP,
  queue: sqs.DeduplicationScope.QUEUE,
};
const THROUGHPUT_LIMIT: Record<NonNullable<QueueSpec['fifoThroughputLimit']>, sqs.FifoThroughputLimit> = {
  perMessageGroupId: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
  perQueue: sqs.FifoThroughputLimit.PER_QUEUE,
};

/** Creates the queues and their DLQs in `scope` (ids `<Role>Queue`, `<Role>Dlq`). */
export function createXChannelQueues(scope: Construct, options: QueuesOptions): XChannelQueues {
  const fifo: Record<QueueRole, boolean> = {
    pollJobs: QUEUES.pollJobs.fifo,
    inbound: options.inboundFifo ?? QUEUES.inbound.fifo,
    outbound: options.outboundFifo ?? QUEUES.outbound.fifo,
    results: QUEUES.results.fifo,
  };
  const encryption = {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: options.dataKey,
    enforceSSL: true,
  };
  const make = (spec: QueueSpec) => {
    const isFifo = fifo[spec.role];
    const dlq = new sqs.Queue(scope, `${pascal(spec.role)}Dlq`, {
      ...encryption,
      fifo: isFifo || undefined,
      retentionPeriod: Duration.seconds(DLQ_RETENTION_SECONDS),
    });
    const consumer = CONSUMER_TIMEOUT_S[spec.role];
    const visibility = Math.max(spec.visibilityTimeoutSeconds, consumer ? 6 * consumer : 0);
    const queue = new sqs.Queue(scope, `${pascal(spec.role)}Queue`, {
      ...encryption,
      fifo: isFifo || undefined,
      // The FIFO settings apply only while the queue is FIFO (inboundFifo/outboundFifo may turn it off);
      // `false` is SQS's default, so it is left out of the template as before.
      contentBasedDeduplication: (isFifo && spec.contentBasedDeduplication) || undefined,
      deduplicationScope:
        isFifo && spec.deduplicationScope ? DEDUP_SCOPE[spec.deduplicationScope] : undefined,
      fifoThroughputLimit:
        isFifo && spec.fifoThroughputLimit ? THROUGHPUT_LIMIT[spec.fifoThroughputLimit] : undefined,
      visibilityTimeout: Duration.seconds(visibility),
      retentionPeriod:
        spec.role !== 'pollJobs' && options.retention
          ? options.retention
          : Duration.seconds(spec.retentionSeconds),
      deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
    });
    return { queue, dlq };
  };
  const p = make(QUEUES.pollJobs);
  const i = make(QUEUES.inbound);
  const o = make(QUEUES.outbound);
  const r = make(QUEUES.results);
  return {
    pollJobs: p.queue,
    pollJobsDlq: p.dlq,
    inbound: i.queue,
    inboundDlq: i.dlq,
    outbound: o.queue,
    outboundDlq: o.dlq,
    results: r.queue,
    resultsDlq: r.dlq,
  };
}
