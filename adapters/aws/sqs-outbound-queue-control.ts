/**
 * What the sender does to an outbound queue message besides acknowledging it: delay it (visibility) or
 * move it to the DLQ with a reason. Lambda's event source deletes successes itself.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

export interface OutboundQueueControl {
  /** Makes the message visible again after `delaySeconds` (≤ 12 h), so it is retried then and not before. */
  delay(record: SQSRecord, delaySeconds: number): Promise<void>;
  /** Copies the message to the DLQ with a `reason` attribute; the caller then acknowledges the original. */
  deadLetter(record: SQSRecord, reason: string): Promise<void>;
}

/** The queue URL a record came from, derived from its ARN (`arn:aws:sqs:<region>:<account>:<name>`). */
export function queueUrlFromArn(arn: string, sqsEndpoint?: string): string {
  const [, , , region, account, name] = arn.split(':');
  const origin = sqsEndpoint ? sqsEndpoint.replace(/\/$/, '') : `https://sqs.${region}.amazonaws.com`;
  return `${origin}/${account}/${name}`;
}

export function createSqsOutboundQueueControl(options: {
  client: SQSClient;
  /** Where the outbound queue lives; by default derived from each record's ARN. */
  queueUrlOf?: (record: SQSRecord) => string;
  sqsEndpoint?: string;
  dlqUrl: string;
}): OutboundQueueControl {
  const queueUrlOf =
    options.queueUrlOf ?? ((r: SQSRecord) => queueUrlFromArn(r.eventSourceARN, options.sqsEndpoint));
  const fifo = options.dlqUrl.endsWith('.fifo');
  return {
    async delay(record, delaySeconds) {
      await options.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrlOf(record),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
        }),
      );
    },
    async deadLetter(record, reason) {
      await options.client.send(
        new SendMessageCommand({
          QueueUrl: options.dlqUrl,
          MessageBody: record.body.length > 0 ? record.body : '(empty body)',
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
            sourceMessageId: { DataType: 'String', StringValue: record.messageId },
          },
          ...(fifo
            ? {
                MessageGroupId: record.attributes.MessageGroupId ?? 'rejected',
                MessageDeduplicationId:
                  record.messageId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 128) || 'rejected',
              }
            : {}),
        }),
      );
    },
  };
}
