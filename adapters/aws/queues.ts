/**
 * The queue topology, shared by the CDK construct, the local runtime and tests. Every queue has a DLQ.
 * Inbound and outbound are FIFO (grouped by conversation); poll-jobs and results are standard.
 */
export type QueueRole = 'pollJobs' | 'inbound' | 'outbound' | 'results';

export interface QueueSpec {
  role: QueueRole;
  /** Base name; FIFO queues get the `.fifo` suffix. */
  name: string;
  fifo: boolean;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: number;
  /** Seconds; for queues with a consumer it exceeds the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Seconds a message is kept. */
  retentionSeconds: number;
}

export const QUEUES: Record<QueueRole, QueueSpec> = {
  pollJobs: {
    role: 'pollJobs',
    name: 'x-channel-poll-jobs',
    fifo: false,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 3600,
  },
  inbound: {
    role: 'inbound',
    name: 'x-channel-inbound',
    fifo: true,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 60,
    retentionSeconds: 14 * 86400,
  },
  outbound: {
    role: 'outbound',
    name: 'x-channel-outbound',
    fifo: true,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * 86400,
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

export const queueName = (spec: QueueSpec, suffix = '') => `${spec.name}${suffix}${spec.fifo ? '.fifo' : ''}`;
export const dlqName = (spec: QueueSpec, suffix = '') =>
  `${spec.name}${suffix}-dlq${spec.fifo ? '.fifo' : ''}`;
