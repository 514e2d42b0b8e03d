/**
 * The queue topology, the one source of queue names and attributes: the CDK construct, the local
 * runtime (which creates the local queues from it through `createQueueWithDlq`) and tests read it.
 * Every queue has a DLQ. Inbound and outbound are FIFO (grouped by conversation, deduplicated per
 * message group, throughput per message group); poll-jobs and results are standard.
 * test/integration/stand-ins/queues-match-cdk.test.ts compares the local queues with the template.
 */
export type QueueRole = 'pollJobs' | 'inbound' | 'outbound' | 'results';

export interface QueueSpec {
  role: QueueRole;
  /** Base name; FIFO queues get the `.fifo` suffix. */
  name: string;
  fifo: boolean;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: number;
  /**
   * Seconds; for queues with a Lambda consumer at least 6x its timeout (AWS's advice, so a batch
   * retried by the poller is not handed out again while a slow invocation still runs).
   */
  visibilityTimeoutSeconds: number;
  /** Seconds a message is kept. */
  retentionSeconds: number;
  /** FIFO only: SQS deduplicates on the SHA-256 of the body when a sender omits MessageDeduplicationId. */
  contentBasedDeduplication?: boolean;
  /** FIFO only: dedup ids are unique per message group (`messageGroup`) or per queue. */
  deduplicationScope?: 'messageGroup' | 'queue';
  /** FIFO only: throughput quota per message group id (high throughput) or per queue. */
  fifoThroughputLimit?: 'perMessageGroupId' | 'perQueue';
}

/** Every DLQ keeps its messages as long as SQS allows, so a failure can be inspected after its source expired. */
export const DLQ_RETENTION_SECONDS = 14 * 86400;

/** Per-group dedup and throughput: each conversation is its own group, so the queue scales with them. */
const HIGH_THROUGHPUT_FIFO = {
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
} as const;

export const QUEUES: Record<QueueRole, QueueSpec> = {
  pollJobs: {
    role: 'pollJobs',
    name: 'x-channel-poll-jobs',
    fifo: false,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 180, // 6 x the poller's 30 s timeout
    retentionSeconds: 3600,
  },
  inbound: {
    role: 'inbound',
    name: 'x-channel-inbound',
    fifo: true,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 60,
    retentionSeconds: 14 * 86400,
    // Every inbound message carries its dedup id (`<channelId>:<id>`).
    contentBasedDeduplication: false,
    ...HIGH_THROUGHPUT_FIFO,
  },
  outbound: {
    role: 'outbound',
    name: 'x-channel-outbound',
    fifo: true,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 180, // 6 x the sender's 30 s timeout
    retentionSeconds: 4 * 86400,
    // The case system may omit MessageDeduplicationId (the body holds its idempotencyKey).
    contentBasedDeduplication: true,
    ...HIGH_THROUGHPUT_FIFO,
  },
  results: {
    role: 'results',
    name: 'x-channel-results',
    fifo: false,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 60,
    retentionSeconds: 14 * 86400,
  },
};

/**
 * The SQS attributes of a queue as `CreateQueue` / `SetQueueAttributes` take them (without the
 * RedrivePolicy, which needs the DLQ's ARN).
 */
export function queueAttributes(spec: QueueSpec): Record<string, string> {
  const fifo: Record<string, string> = spec.fifo
    ? {
        FifoQueue: 'true',
        ContentBasedDeduplication: String(spec.contentBasedDeduplication ?? false),
        DeduplicationScope: spec.deduplicationScope ?? 'queue',
        FifoThroughputLimit: spec.fifoThroughputLimit ?? 'perQueue',
      }
    : {};
  return {
    ...fifo,
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(spec.retentionSeconds),
  };
}

/** The attributes of a queue's DLQ: same type, SQS's defaults otherwise, longest retention. */
export function dlqAttributes(spec: QueueSpec): Record<string, string> {
  return {
    ...(spec.fifo ? { FifoQueue: 'true' } : {}),
    MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS),
  };
}

export const queueName = (spec: QueueSpec, suffix = '') => `${spec.name}${suffix}${spec.fifo ? '.fifo' : ''}`;
export const dlqName = (spec: QueueSpec, suffix = '') =>
  `${spec.name}${suffix}-dlq${spec.fifo ? '.fifo' : ''}`;
