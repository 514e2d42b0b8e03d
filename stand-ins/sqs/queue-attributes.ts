/**
 * Queue attributes: which names exist, their defaults, and the ranges and combinations SQS accepts
 * (SQS API reference, CreateQueue / SetQueueAttributes). Values are strings, as on the wire.
 */
import { sqsError } from './errors';

/** What GetQueueAttributes can name (besides `All`). */
export const READABLE = [
  'All',
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'ApproximateNumberOfMessagesDelayed',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
] as const;

const RANGES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  // 1 MiB since August 2025 (it was 256 KiB before).
  MaximumMessageSize: [1024, 1048576],
  MessageRetentionPeriod: [60, 1209600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43200],
  KmsDataKeyReusePeriodSeconds: [60, 86400],
};
const BOOLEAN = ['FifoQueue', 'ContentBasedDeduplication', 'SqsManagedSseEnabled'];
const FIFO_ONLY = ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'];
const SETTABLE = [
  ...Object.keys(RANGES),
  ...BOOLEAN,
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

export const DEFAULTS: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'false',
};
export const FIFO_DEFAULTS: Record<string, string> = {
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

const invalidAttr = (name: string, value: string, reason: string) =>
  sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}: ${value}. Reason: ${reason}`);

/** Parses a RedrivePolicy value (JSON; maxReceiveCount may be a string, as the console writes it). */
export function parseRedrivePolicy(value: string): RedrivePolicy {
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    throw invalidAttr('RedrivePolicy', value, 'it is not valid JSON');
  }
  const count = Number(parsed.maxReceiveCount);
  if (typeof parsed.deadLetterTargetArn !== 'string' || !parsed.deadLetterTargetArn.startsWith('arn:')) {
    throw invalidAttr('RedrivePolicy', value, 'deadLetterTargetArn must be a queue ARN');
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidAttr('RedrivePolicy', value, 'maxReceiveCount must be an integer 1-1000');
  }
  return { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: count };
}

/**
 * Checks attributes given to CreateQueue (`creating`) or SetQueueAttributes against the queue type
 * and returns them normalized (RedrivePolicy as SQS prints it back). Throws SQS's error for the first
 * bad one.
 */
export function validateAttributes(
  attributes: Record<string, string>,
  fifo: boolean,
  creating: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    const value = String(raw);
    if (!SETTABLE.includes(name) || (name === 'FifoQueue' && !creating)) {
      throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    if (FIFO_ONLY.includes(name) && !fifo) {
      throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    const range = RANGES[name];
    if (range) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < range[0] || n > range[1]) {
        throw invalidAttr(name, value, `must be an integer ${range[0]}-${range[1]}`);
      }
    }
    if (BOOLEAN.includes(name) && value !== 'true' && value !== 'false') {
      throw invalidAttr(name, value, 'must be true or false');
    }
    if (name === 'DeduplicationScope' && value !== 'queue' && value !== 'messageGroup') {
      throw invalidAttr(name, value, 'must be queue or messageGroup');
    }
    if (name === 'FifoThroughputLimit' && value !== 'perQueue' && value !== 'perMessageGroupId') {
      throw invalidAttr(name, value, 'must be perQueue or perMessageGroupId');
    }
    if (name === 'RedrivePolicy') {
      out[name] = value === '' ? '' : JSON.stringify(parseRedrivePolicy(value));
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** SQS refuses perMessageGroupId throughput unless deduplication is scoped to the message group. */
export function checkFifoCombination(attributes: Record<string, string>): void {
  if (
    attributes.FifoThroughputLimit === 'perMessageGroupId' &&
    attributes.DeduplicationScope !== 'messageGroup'
  ) {
    throw sqsError(
      'InvalidAttributeValue',
      'Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.',
    );
  }
}
