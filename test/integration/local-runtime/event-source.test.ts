import { createHash, randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startSqsEventSource, type SqsEventSource } from '../../../local/event-source';
import { startSqs, type SqsStandIn } from '../../../stand-ins/sqs';

const region = 'us-east-1';
let server: SqsStandIn;
let sqs: SQSClient;
const sources: SqsEventSource[] = [];

beforeAll(async () => {
  server = await startSqs({ port: 0 });
  sqs = new SQSClient({
    region,
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

/** A queue (1 s visibility) with a DLQ; unique names per test. */
async function queueWithDlq(opts: { fifo?: boolean; maxReceiveCount?: number } = {}) {
  const base = `lr-${randomUUID().slice(0, 8)}`;
  const suffix = opts.fifo ? '.fifo' : '';
  const fifoAttrs: Record<string, string> = opts.fifo ? { FifoQueue: 'true' } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${base}-dlq${suffix}`, Attributes: fifoAttrs }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${base}${suffix}`,
      Attributes: {
        ...fifoAttrs,
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: opts.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  return { url: q.QueueUrl!, dlqUrl: dlq.QueueUrl!, arn: dlqArn.replace(/-dlq(\.fifo)?$/, suffix) };
}

async function sendAll(url: string, bodies: string[], group?: (b: string) => string) {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((b, k) => ({
          Id: String(k),
          MessageBody: b,
          ...(group ? { MessageGroupId: group(b), MessageDeduplicationId: b } : {}),
        })),
      }),
    );
  }
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(
  options: Omit<Parameters<typeof startSqsEventSource>[0], 'sqs' | 'region' | 'functionName'>,
) {
  const s = await startSqsEventSource({
    sqs,
    region,
    functionName: 'test-fn',
    functionTimeoutMs: 900,
    ...options,
  });
  sources.push(s);
  return s;
}

describe('SQS event source with Lambda semantics', () => {
  it('delivers a real-shaped SQSEvent and a Lambda context', async () => {
    const q = await queueWithDlq();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: q.url,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'mention' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    const events: SQSEvent[] = [];
    const functionNames: string[] = [];
    const remaining: number[] = [];
    const source = await start({
      queueUrl: q.url,
      handler: async (event, context) => {
        events.push(event);
        functionNames.push(context.functionName);
        remaining.push(context.getRemainingTimeInMillis());
      },
    });
    await waitFor('one batch', () => events.length === 1);
    const r = events[0].Records[0];
    expect(r).toMatchObject({
      body: '{"hello":"world"}',
      eventSource: 'aws:sqs',
      eventSourceARN: source.queueArn,
      awsRegion: region,
      md5OfBody: createHash('md5').update('{"hello":"world"}').digest('hex'),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        kind: { dataType: 'String', stringValue: 'mention' },
        blob: { dataType: 'Binary', binaryValue: Buffer.from([1, 2, 3]).toString('base64') },
      },
    });
    expect(r.messageId).toMatch(/\S/);
    expect(r.receiptHandle).toMatch(/\S/);
    expect(Number(r.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(source.queueArn).toMatch(/^arn:aws:sqs:/);
    expect(functionNames).toEqual(['test-fn']);
    expect(remaining[0]).toBeGreaterThan(0);
    expect(remaining[0]).toBeLessThanOrEqual(900);
    await waitFor('delete', () => source.stats().deleted === 1);
  });

  it('redelivers only the records a handler reports as failed', async () => {
    const q = await queueWithDlq();
    await sendAll(q.url, ['a', 'b', 'c']);
    const deliveries: Array<{ body: string; count: string }> = [];
    let failedOnce = false;
    await start({
      queueUrl: q.url,
      maximumBatchingWindowMs: 300,
      handler: async (event): Promise<SQSBatchResponse> => {
        const failures: SQSBatchResponse['batchItemFailures'] = [];
        for (const r of event.Records) {
          deliveries.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
          if (r.body === 'b' && !failedOnce) {
            failedOnce = true;
            failures.push({ itemIdentifier: r.messageId });
          }
        }
        return { batchItemFailures: failures };
      },
    });
    await waitFor('b redelivered', () => deliveries.filter((d) => d.body === 'b').length === 2);
    // Give a and c a full visibility timeout to prove they are not redelivered.
    await sleep(1500);
    expect(deliveries.filter((d) => d.body === 'a')).toEqual([{ body: 'a', count: '1' }]);
    expect(deliveries.filter((d) => d.body === 'c')).toEqual([{ body: 'c', count: '1' }]);
    expect(deliveries.filter((d) => d.body === 'b').map((d) => d.count)).toEqual(['1', '2']);
  });

  it.each([
    ['throws', 'throw' as const],
    ['outlives its function timeout', 'timeout' as const],
    ['reports an unknown itemIdentifier', 'bogus' as const],
  ])('redelivers the whole batch when the handler %s', async (_name, mode) => {
    const q = await queueWithDlq();
    await sendAll(q.url, ['x', 'y', 'z']);
    const seen: SQSRecord[] = [];
    let first = true;
    await start({
      queueUrl: q.url,
      maximumBatchingWindowMs: 300,
      handler: async (event) => {
        seen.push(...event.Records);
        if (!first) return { batchItemFailures: [] };
        first = false;
        if (mode === 'throw') throw new Error('transient');
        if (mode === 'timeout') await sleep(1200);
        return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      },
    });
    await waitFor('all three seen twice', () => seen.length >= 6);
    const counts = (body: string) =>
      seen.filter((r) => r.body === body).map((r) => r.attributes.ApproximateReceiveCount);
    for (const body of ['x', 'y', 'z']) expect(counts(body)).toEqual(['1', '2']);
  });

  it('leaves poison messages to the queue, which moves them to the DLQ after maxReceiveCount', async () => {
    const q = await queueWithDlq({ maxReceiveCount: 2 });
    await sendAll(q.url, ['poison']);
    let attempts = 0;
    await start({
      queueUrl: q.url,
      handler: async (event) => {
        attempts += event.Records.length;
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    let dead: string[] = [];
    await waitFor('message in the DLQ', async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, WaitTimeSeconds: 1 }));
      dead = (out.Messages ?? []).map((m) => m.Body ?? '');
      return dead.length > 0;
    });
    expect(dead).toEqual(['poison']);
    expect(attempts).toBe(2);
  });

  it('keeps FIFO group order: after a failure, later messages of that group are not deleted', async () => {
    const q = await queueWithDlq({ fifo: true });
    await sendAll(q.url, ['g1-1', 'g1-2', 'g1-3', 'g2-1', 'g2-2'], (b) => b.slice(0, 2));
    const done: string[] = [];
    let failedOnce = false;
    await start({
      queueUrl: q.url,
      maxConcurrency: 2,
      handler: async (event) => {
        const failures: SQSBatchResponse['batchItemFailures'] = [];
        for (const r of event.Records) {
          expect(r.attributes.MessageGroupId).toBe(r.body.slice(0, 2));
          expect(r.attributes.MessageDeduplicationId).toBe(r.body);
          // A sloppy handler: it reports only the failed record, then "succeeds" the group's next ones.
          if (r.body === 'g1-1' && !failedOnce) {
            failedOnce = true;
            failures.push({ itemIdentifier: r.messageId });
          } else done.push(r.body);
        }
        return { batchItemFailures: failures };
      },
    });
    await waitFor('all five', () => ['g1-3', 'g2-2'].every((b) => done.includes(b)) && done.includes('g1-1'));
    await sleep(1200);
    const lastOf = (body: string) => done.lastIndexOf(body);
    expect(lastOf('g1-1')).toBeLessThan(lastOf('g1-2'));
    expect(lastOf('g1-2')).toBeLessThan(lastOf('g1-3'));
    expect(lastOf('g2-1')).toBeLessThan(lastOf('g2-2'));
  });

  it('stops gracefully: every message is either processed and deleted or left for redelivery', async () => {
    const q = await queueWithDlq();
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await sendAll(q.url, bodies);
    const processed = new Set<string>();
    const first = await startSqsEventSource({
      sqs,
      region,
      functionName: 'first',
      queueUrl: q.url,
      batchSize: 5,
      maxConcurrency: 2,
      functionTimeoutMs: 900,
      stopTimeoutMs: 900,
      handler: async (event) => {
        await sleep(150);
        for (const r of event.Records) processed.add(r.body);
      },
    });
    await waitFor('some processed', () => processed.size >= 5);
    await first.stop();
    const afterStop = first.stats();
    expect(afterStop.inFlightBatches).toBe(0);
    expect(processed.size).toBeLessThan(bodies.length);

    const second = new Set<string>();
    await start({
      queueUrl: q.url,
      handler: async (event) => {
        for (const r of event.Records) second.add(r.body);
      },
    });
    await waitFor('the rest', () => bodies.every((b) => processed.has(b) || second.has(b)));
    expect(bodies.filter((b) => !processed.has(b) && !second.has(b))).toEqual([]);
    // What the first run finished was deleted, not handed out again.
    expect([...second].filter((b) => processed.has(b))).toEqual([]);
  });

  it('refuses a function timeout longer than the queue visibility timeout, naming the option', async () => {
    const q = await queueWithDlq();
    await expect(
      startSqsEventSource({
        sqs,
        region,
        functionName: 'f',
        queueUrl: q.url,
        functionTimeoutMs: 5000,
        handler: async () => undefined,
      }),
    ).rejects.toThrow(/functionTimeoutMs/);
    await expect(
      startSqsEventSource({
        sqs,
        region,
        functionName: 'f',
        queueUrl: q.url,
        batchSize: 11,
        handler: async () => undefined,
      }),
    ).rejects.toThrow(/batchSize/);
  });
});
