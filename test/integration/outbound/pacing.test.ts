/**
 * The sender near its function timeout (lambdas/sender/pacing.ts), through the real handler, the SQS
 * stand-in and the simulated X: the records it did not start are visible again at once — not after
 * the queue's 180 s visibility timeout — and each command is then posted once, with one result.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { OUTBOUND_SCHEMA, type ResultMessage } from '../../../contracts';
import { failedIdsFromResponse, toSqsRecord } from '../../../local/event-source';
import { createLambdaContext } from '../../../local/lambda-context';
import { createApp as createSenderHandler } from '../../../lambdas/sender/app';
import { connectChannel, simTweets, useSenderWorld } from './harness';

const world = useSenderWorld();

it('time runs short after the first command → the other two are handed back visible at once, then each is posted once', async () => {
  const { aws, sim, h } = world;
  const { accountId, channel } = await connectChannel(aws, sim, 'acme_pacing');
  const customer = sim.createUser({ username: 'pat_pacing', name: 'Pat' }).id;
  const keys = [1, 2, 3].map((i) => `pacing-${Date.now().toString(36)}-${i}`);
  for (const [i, key] of keys.entries()) {
    const mention = sim.createTweet({ authorId: customer, text: `@acme_pacing help ${i}` });
    await h.send({
      schema: OUTBOUND_SCHEMA,
      idempotencyKey: key,
      channelId: channel.id,
      kind: 'reply',
      targetId: mention.id,
      text: `On it ${i}`,
    });
  }
  const receive = async () =>
    (
      await aws.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: h.queues.outbound.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];
  const first = await receive();
  expect(first).toHaveLength(3);
  // the invocation's clock: 30 s left until the first result is out, then 1 s
  let remainingMs = 30_000;
  const published: ResultMessage[] = [];
  const inner = h.runtime.results;
  const handler = createSenderHandler({
    ...h.runtime,
    results: {
      publish: async (r) => {
        await inner.publish(r);
        published.push(r);
        remainingMs = 1_000;
      },
    },
  });
  const context: Context = {
    ...createLambdaContext({ functionName: 'sender', timeoutMs: 30_000, region: aws.region }),
    getRemainingTimeInMillis: () => remainingMs,
  };
  const records = first.map((m) => toSqsRecord(m, h.queues.outbound.arn, aws.region));
  const response = await handler({ Records: records } as SQSEvent, context);
  const failed = failedIdsFromResponse(response, records, true);
  expect(published.map((r) => r.idempotencyKey)).toEqual([keys[0]]);
  expect(failed === 'all' ? 'all' : [...failed].sort()).toEqual(
    [records[1].messageId, records[2].messageId].sort(),
  );
  // Lambda deletes the success; the other two are visible again now (no clock moved)
  await aws.clients.sqs.send(
    new DeleteMessageCommand({ QueueUrl: h.queues.outbound.url, ReceiptHandle: records[0].receiptHandle }),
  );
  const again = await receive();
  expect(again.map((m) => m.MessageId).sort()).toEqual([records[1].messageId, records[2].messageId].sort());
  expect(again.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);
  for (const m of again)
    await aws.clients.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.queues.outbound.url,
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  await h.drain();
  const results = await h.results(); // the first one included: it went out through the real publisher
  expect(results.map((r) => [r.idempotencyKey, r.status]).sort()).toEqual(
    keys.map((k) => [k, 'sent']).sort(),
  );
  const posts = (await simTweets(sim, accountId)).filter((t) => t.text.startsWith('On it'));
  expect(posts).toHaveLength(3);
});
