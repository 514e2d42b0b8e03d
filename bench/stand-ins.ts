/**
 * Throughput of the local stand-ins through the real AWS SDK v3 clients, for `npm run bench` (which
 * calls {@link benchStandIns}) or alone: `npx tsx bench/stand-ins.ts [--quick]`.
 *
 * Keys (all per second, higher is better):
 * - `standIns.sqs.unbatchedMessagesPerSecond`: one SendMessage, ReceiveMessage and DeleteMessage per message
 * - `standIns.sqs.batchedMessagesPerSecond`: SendMessageBatch / ReceiveMessage / DeleteMessageBatch of 10
 * - `standIns.dynamodb.conditionalPutsPerSecond`: PutItem with `attribute_not_exists`, 16 in parallel
 */
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createAwsClients } from '../adapters/aws/clients';
import { startDynamoDbLocal } from '../stand-ins/dynamodb-local';
import { startSqs } from '../stand-ins/sqs';

const DYNAMO_CONCURRENCY = 16;

/** Runs the stand-in benchmarks; `quick` uses smaller counts for CI smoke runs. */
export async function benchStandIns(opts: { quick: boolean }): Promise<Record<string, number>> {
  // counts, and a time bound per measurement so a busy shared machine cannot stretch the run for ever
  const n = opts.quick
    ? { unbatched: 100, batched: 500, puts: 300, seconds: 3 }
    : { unbatched: 2000, batched: 10000, puts: 10000, seconds: 8 };
  const [sqsStandIn, ddb] = await Promise.all([startSqs({ port: 0 }), startDynamoDbLocal({ port: 0 })]);
  const clients = createAwsClients({
    region: 'us-east-1',
    endpoints: { sqs: sqsStandIn.endpoint, dynamodb: ddb.endpoint },
  });
  try {
    const until = () => performance.now() + n.seconds * 1000;
    const unbatched = await sqsUnbatched(clients.sqs, n.unbatched, until());
    const batched = await sqsBatched(clients.sqs, n.batched, until());
    const puts = await dynamoConditionalPuts(clients, n.puts, until());
    return {
      'standIns.sqs.unbatchedMessagesPerSecond': unbatched,
      'standIns.sqs.batchedMessagesPerSecond': batched,
      'standIns.dynamodb.conditionalPutsPerSecond': puts,
    };
  } finally {
    clients.sqs.destroy();
    clients.dynamodb.destroy();
    await Promise.all([sqsStandIn.stop(), ddb.stop()]);
  }
}

const perSecond = (count: number, startedMs: number) =>
  Math.round(count / ((performance.now() - startedMs) / 1000));

async function queue(sqs: SQSClient, name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${Date.now()}` }))).QueueUrl!;
}

async function sqsUnbatched(sqs: SQSClient, count: number, untilMs: number): Promise<number> {
  const url = await queue(sqs, 'bench-unbatched');
  const t0 = performance.now();
  let i = 0;
  for (; i < count && performance.now() < untilMs; i++) {
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `{"n":${i}}` }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));
    const m = got.Messages?.[0];
    if (!m) throw new Error(`bench: message ${i} was not received`);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
  }
  return perSecond(i, t0);
}

async function sqsBatched(sqs: SQSClient, count: number, untilMs: number): Promise<number> {
  const url = await queue(sqs, 'bench-batched');
  const t0 = performance.now();
  let done = 0;
  for (let b = 0; done < count && performance.now() < untilMs; b++) {
    const Entries = Array.from({ length: 10 }, (_, i) => ({
      Id: `m${i}`,
      MessageBody: `{"b":${b},"i":${i}}`,
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    let left = 10;
    while (left > 0) {
      const got =
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages ??
        [];
      if (got.length === 0) throw new Error(`bench: batch ${b} came back short`);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      left -= got.length;
      done += got.length;
    }
  }
  return perSecond(done, t0);
}

async function dynamoConditionalPuts(
  clients: ReturnType<typeof createAwsClients>,
  count: number,
  untilMs: number,
): Promise<number> {
  const TableName = `bench-${Date.now()}`;
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: DYNAMO_CONCURRENCY }, async () => {
      while (next < count && performance.now() < untilMs) {
        const i = next++;
        await clients.doc.send(
          new PutCommand({
            TableName,
            Item: { pk: `CH#${i}`, sk: `IDEM#${i}`, data: 'x'.repeat(200) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      }
    }),
  );
  const rate = perSecond(next, t0);
  await clients.dynamodb.send(new DeleteTableCommand({ TableName }));
  return rate;
}

if (require.main === module) {
  benchStandIns({ quick: process.argv.includes('--quick') })
    .then((results) => {
      for (const [key, value] of Object.entries(results)) console.log(`${key.padEnd(48)} ${value}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
