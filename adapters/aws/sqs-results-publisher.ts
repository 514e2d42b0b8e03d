/**
 * `ResultsPublisher` on the results queue (SQS standard). Each result is validated against the fixed
 * `x-channel.result.v1` contract before it leaves, so a bug can never publish a malformed result.
 * Message attributes carry the channel and status for consumers that filter without parsing.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describeIssues, resultMessageSchema, type ResultMessage } from '../../contracts';
import type { ResultsPublisher } from '../../core/outbound/ports';

export interface SqsResultsPublisherOptions {
  client: SQSClient;
  queueUrl: string;
}

export function createSqsResultsPublisher({
  client,
  queueUrl,
}: SqsResultsPublisherOptions): ResultsPublisher {
  return {
    async publish(result: ResultMessage) {
      const checked = resultMessageSchema.safeParse(result);
      if (!checked.success)
        throw new Error(`refusing to publish an invalid result: ${describeIssues(checked.error)}`);
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(checked.data),
          MessageAttributes: {
            channelId: { DataType: 'String', StringValue: result.channelId },
            status: { DataType: 'String', StringValue: result.status },
          },
        }),
      );
    },
  };
}
