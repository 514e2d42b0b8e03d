/**
 * SQS stand-in conformance through the real @aws-sdk/client-sqs: the behaviours x-channel relies on
 * (FIFO order and group lock, dedup window, visibility timeout, redrive, long polling, MD5, batches)
 * and persistence across a restart.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QUEUES } from '../../../adapters/aws/queues';
import { createQueueWithDlq, startSqs, type SqsStandIn } from '../../../stand-ins/sqs';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientFor = (endpoint: string) =>
  new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, useQueueUrlAsEndpoint: false });
const uid = () => randomBytes(4).toString('hex');

let stand: SqsStandIn;
let sqs: SQSClient;

beforeAll(async () => {
  stand = await startSqs({ port: 0 });
  sqs = clientFor(stand.endpoint);
});
afterAll(async () => {
  sqs.destroy();
  await stand.stop();
});

async function fifoQueue(extra: Record<string, string> = {}): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: `t-${uid()}.fifo`, Attributes: { FifoQueue: 'true', ...extra } }),
  );
  return out.QueueUrl!;
}

async function receive(url: string, max = 10, wait = 0): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: wait,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

async function counts(url: string) {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('SQS stand-in through the real client', () => {
  it('keeps FIFO order within a group and serves several groups side by side', async () => {
    const url = await fifoQueue();
    const plan = ['a1', 'b1', 'a2', 'b2', 'a3'];
    for (const body of plan) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageGroupId: body[0],
          MessageDeduplicationId: body,
        }),
      );
    }
    const first = await receive(url);
    const firstGroups = new Set(first.map((m) => m.Attributes?.MessageGroupId));
    const seen: string[] = [];
    let batch = first;
    while (batch.length > 0) {
      for (const m of batch) {
        seen.push(m.Body!);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      }
      batch = await receive(url);
    }

    expect(firstGroups).toEqual(new Set(['a', 'b']));
    expect(seen.filter((b) => b.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(seen.filter((b) => b.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('locks a group while one of its messages is in flight', async () => {
    const url = await fifoQueue();
    for (const [body, group] of [
      ['g1-m1', 'g1'],
      ['g1-m2', 'g1'],
      ['g2-m1', 'g2'],
    ]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageGroupId: group,
          MessageDeduplicationId: body,
        }),
      );
    }

    const [held] = await receive(url, 1);
    const whileHeld = (await receive(url)).map((m) => m.Body);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: held.ReceiptHandle }));
    const afterDelete = (await receive(url)).map((m) => m.Body);

    expect(held.Body).toBe('g1-m1');
    expect(whileHeld).toEqual(['g2-m1']);
    expect(afterDelete).toEqual(['g1-m2']);
  });

  it('drops a duplicate within the dedup window and answers with the original MessageId', async () => {
    const url = await fifoQueue();
    const send = (body: string) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          MessageGroupId: 'g',
          MessageDeduplicationId: 'x:tweet:1',
        }),
      );

    const a = await send('first');
    const b = await send('second body, same dedup id');

    expect(b.MessageId).toBe(a.MessageId);
    expect(b.SequenceNumber).toBe(a.SequenceNumber);
    expect(await counts(url)).toEqual({ visible: 1, inFlight: 0 });
    expect((await receive(url)).map((m) => m.Body)).toEqual(['first']);
  });

  it('makes a message visible again after its visibility timeout, with a higher receive count', async () => {
    const url = (
      await sqs.send(
        new CreateQueueCommand({ QueueName: `t-${uid()}`, Attributes: { VisibilityTimeout: '1' } }),
      )
    ).QueueUrl!;
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));

    const [first] = await receive(url);
    const duringTimeout = await receive(url);
    // A long poll returns as soon as the timeout has ended and the message is visible again.
    const [second] = await receive(url, 10, 5);

    expect(first.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(duringTimeout).toEqual([]);
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
  });

  it('moves a message to the DLQ after maxReceiveCount receives', async () => {
    const spec = { ...QUEUES.results, maxReceiveCount: 2 };
    const q = await createQueueWithDlq(sqs, spec, `-${uid()}`);
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'poison' }));

    const receiveCounts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [m] = await receive(q.url);
      receiveCounts.push(m.Attributes!.ApproximateReceiveCount!);
      // Give it back at once instead of waiting out the 60 s visibility timeout.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: q.url,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    const third = await receive(q.url);
    const dead = await receive(q.dlqUrl, 10, 2);

    expect(receiveCounts).toEqual(['1', '2']);
    expect(third).toEqual([]);
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
  });

  it('returns a long poll as soon as a message arrives', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `t-${uid()}` }))).QueueUrl!;
    // 20 s wait against a 10 s test timeout: the test can only pass if the poll returns early.
    const polling = receive(url, 1, 20);
    await new Promise((r) => setTimeout(r, 100));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));

    expect((await polling).map((m) => m.Body)).toEqual(['late']);
  }, 10000);

  it('answers MD5 digests the client verifies, for send and receive', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `t-${uid()}` }))).QueueUrl!;
    const body = 'héllo ✓ 🐦 — "quoted" \n newline';
    const md5 = createHash('md5').update(body, 'utf8').digest('hex');

    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'mention' } },
      }),
    );
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'] }));

    expect(sent.MD5OfMessageBody).toBe(md5);
    expect(got.Messages?.[0]?.Body).toBe(body);
    expect(got.Messages?.[0]?.MD5OfBody).toBe(md5);
    expect(got.Messages?.[0]?.MessageAttributes?.kind?.StringValue).toBe('mention');
  });

  it('sends and deletes in batches of 10', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `t-${uid()}` }))).QueueUrl!;
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${i}` }));

    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    const got: Message[] = [];
    for (let i = 0; i < 10 && got.length < 10; i++) got.push(...(await receive(url)));
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );

    expect(sent.Successful).toHaveLength(10);
    expect(sent.Failed ?? []).toEqual([]);
    expect(got.map((m) => m.Body).sort()).toEqual(entries.map((e) => e.MessageBody).sort());
    expect(deleted.Successful).toHaveLength(10);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('accepts emoji like SQS does and still rejects characters SQS forbids', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `t-${uid()}` }))).QueueUrl!;
    const entries = [{ Id: 'ok', MessageBody: 'thanks 🙏🏽' }];

    const single = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '🐦 reply' }));
    const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    const bad = sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'nul \u0000 byte' }));

    expect(single.MessageId).toEqual(expect.any(String));
    expect(batch.Successful).toHaveLength(1);
    await expect(bad).rejects.toMatchObject({ name: expect.stringMatching(/InvalidMessageContents$/) });
  });

  it('names a missing queue QueueDoesNotExist', async () => {
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: `missing-${uid()}` }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
  });
});

describe('createQueueWithDlq', () => {
  it('creates a FIFO queue and its FIFO DLQ with the spec attributes, idempotently', async () => {
    const suffix = `-${uid()}`;
    const first = await createQueueWithDlq(sqs, QUEUES.inbound, suffix);
    const again = await createQueueWithDlq(sqs, QUEUES.inbound, suffix);
    const attrs = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: first.url, AttributeNames: ['All'] }))
    ).Attributes!;
    const dlqAttrs = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: first.dlqUrl, AttributeNames: ['All'] }))
    ).Attributes!;

    expect(again).toEqual(first);
    expect(first.url).toMatch(new RegExp(`/x-channel-inbound${suffix}\\.fifo$`));
    expect(first.dlqUrl).toMatch(new RegExp(`/x-channel-inbound${suffix}-dlq\\.fifo$`));
    expect(attrs).toMatchObject({
      QueueArn: first.arn,
      FifoQueue: 'true',
      VisibilityTimeout: String(QUEUES.inbound.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(QUEUES.inbound.retentionSeconds),
    });
    expect(JSON.parse(attrs.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: dlqAttrs.QueueArn,
      maxReceiveCount: QUEUES.inbound.maxReceiveCount,
    });
    expect(dlqAttrs.FifoQueue).toBe('true');
  });
});

describe('SQS persistence across a restart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xc-sqs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('restores queues and messages, in order, with ids and receive counts kept', async () => {
    const dataFile = path.join(dir, 'sqs.json');
    const first = await startSqs({ port: 0, dataFile });
    const c1 = clientFor(first.endpoint);
    const q = await createQueueWithDlq(c1, QUEUES.inbound, '-persist');
    const ids: string[] = [];
    for (const body of ['m1', 'm2', 'm3']) {
      const out = await c1.send(
        new SendMessageCommand({
          QueueUrl: q.url,
          MessageBody: body,
          MessageGroupId: 'conv',
          MessageDeduplicationId: body,
        }),
      );
      ids.push(out.MessageId!);
    }
    // m1 is in flight when the stand-in stops: after the restart it is visible again, like after a timeout.
    await c1.send(new ReceiveMessageCommand({ QueueUrl: q.url }));
    c1.destroy();
    await first.stop();
    const onDisk = readFileSync(dataFile, 'utf8');

    const second = await startSqs({ port: 0, dataFile });
    const c2 = clientFor(second.endpoint);
    try {
      const url = (await c2.send(new GetQueueUrlCommand({ QueueName: 'x-channel-inbound-persist.fifo' })))
        .QueueUrl!;
      const dlqUrl = (
        await c2.send(new GetQueueUrlCommand({ QueueName: 'x-channel-inbound-persist-dlq.fifo' }))
      ).QueueUrl!;
      const redrive = (
        await c2.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }))
      ).Attributes?.RedrivePolicy;
      const dup = await c2.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'm2',
          MessageGroupId: 'conv',
          MessageDeduplicationId: 'm2',
        }),
      );
      const got: Message[] = [];
      for (let i = 0; i < 5 && got.length < 3; i++) {
        const out = await c2.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        for (const m of out.Messages ?? []) {
          got.push(m);
          await c2.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
        }
      }

      expect(onDisk).toContain('m3');
      expect(dlqUrl).toMatch(/-dlq\.fifo$/);
      expect(JSON.parse(redrive!).maxReceiveCount).toBe(QUEUES.inbound.maxReceiveCount);
      expect(dup.MessageId).toBe(ids[1]);
      expect(got.map((m) => m.Body)).toEqual(['m1', 'm2', 'm3']);
      expect(got.map((m) => m.MessageId)).toEqual(ids);
      expect(got.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '1', '1']);
    } finally {
      c2.destroy();
      await second.stop();
    }
  });

  it('saves a changed state periodically, before stop', async () => {
    const dataFile = path.join(dir, 'sqs.json');
    const s = await startSqs({ port: 0, dataFile, snapshotIntervalMs: 50 });
    const c = clientFor(s.endpoint);
    try {
      const url = (await c.send(new CreateQueueCommand({ QueueName: 'periodic' }))).QueueUrl!;
      await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'saved-while-running' }));
      let text = '';
      for (let i = 0; i < 100 && !text.includes('saved-while-running'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        text = (() => {
          try {
            return readFileSync(dataFile, 'utf8');
          } catch {
            return '';
          }
        })();
      }
      expect(text).toContain('saved-while-running');
    } finally {
      c.destroy();
      await s.stop();
    }
  });

  it('refuses a corrupt state file with an error naming the file', async () => {
    const dataFile = path.join(dir, 'sqs.json');
    writeFileSync(dataFile, '{not json');
    await expect(startSqs({ port: 0, dataFile })).rejects.toThrow(dataFile);
  });
});
