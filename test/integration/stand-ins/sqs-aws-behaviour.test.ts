/**
 * The SQS stand-in where it used to differ from AWS (issue 15): dedup per message group, a 5-minute
 * dedup window on the stand-in's own clock without a count cap, attributes only when asked, invalid
 * receipt handles, ListQueues pages, AWS's error codes in both protocols, the query protocol itself,
 * and the request guard (SigV4 by the configured key, loopback Host).
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { QUEUES } from '../../../adapters/aws/queues';
import { createQueueWithDlq, startSqs, type SqsStandIn } from '../../../stand-ins/sqs';
import { SqsStore } from '../../../stand-ins/sqs/store';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const uid = () => randomBytes(4).toString('hex');

let clock = Date.parse('2026-12-07T12:00:00Z');
let stand: SqsStandIn;
let sqs: SQSClient;

beforeAll(async () => {
  stand = await startSqs({ port: 0, now: () => clock });
  sqs = new SQSClient({ endpoint: stand.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
afterAll(async () => {
  sqs.destroy();
  await stand.stop();
});

async function fifo(attributes: Record<string, string> = {}): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: `b-${uid()}.fifo`,
      Attributes: { FifoQueue: 'true', ...attributes },
    }),
  );
  return out.QueueUrl!;
}

async function drain(url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return bodies;
    for (const m of out.Messages) {
      bodies.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

const send = (url: string, body: string, group: string, dedup: string) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: dedup,
    }),
  );

/** A raw request signed like an SDK's: the query protocol, or a request the guard must refuse. */
async function raw(options: {
  body: string;
  headers: Record<string, string>;
  sign?: typeof credentials;
  host?: string;
}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(stand.endpoint);
  let headers: Record<string, string> = { host: options.host ?? url.host, ...options.headers };
  if (options.sign) {
    const signer = new SignatureV4({
      credentials: options.sign,
      region: 'us-east-1',
      service: 'sqs',
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers,
      body: options.body,
    });
    headers = signed.headers;
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: 'POST', path: '/', headers, setHost: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const form = (params: Record<string, string>) => ({
  body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
});

describe('FIFO deduplication as AWS does it', () => {
  it('scopes dedup ids to the message group with DeduplicationScope=messageGroup, to the queue otherwise', async () => {
    const perGroup = await fifo({
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
    const perQueue = await fifo();

    for (const url of [perGroup, perQueue]) {
      await send(url, 'channel A', 'chA:conv', 'x:tweet:1');
      await send(url, 'channel B', 'chB:conv', 'x:tweet:1');
      await send(url, 'channel A again', 'chA:conv', 'x:tweet:1');
    }

    expect((await drain(perGroup)).sort()).toEqual(['channel A', 'channel B']);
    expect(await drain(perQueue)).toEqual(['channel A']);
  });

  it('keeps a dedup id for 5 minutes of the stand-in clock, then accepts it again', async () => {
    const url = await fifo();
    const first = await send(url, 'first', 'g', 'd1');
    clock += 5 * 60_000 - 1000;
    const within = await send(url, 'within', 'g', 'd1');
    clock += 2000;
    const after = await send(url, 'after', 'g', 'd1');

    expect(within.MessageId).toBe(first.MessageId);
    expect(after.MessageId).not.toBe(first.MessageId);
    expect(await drain(url)).toEqual(['first', 'after']);
  });

  it('remembers more than 10,000 dedup ids inside the window (no count cap)', () => {
    // The store itself: 10,001 sends over HTTP would only measure the machine's load.
    const store = new SqsStore({ region: 'us-east-1', now: () => clock });
    const q = store.createQueue('cap.fifo', { FifoQueue: 'true' });
    const first = store.send(q, { body: 'first', groupId: 'g0', dedupId: 'd-0' });
    for (let i = 1; i <= 10_000; i++) store.send(q, { body: 'x', groupId: `g${i % 10}`, dedupId: `d-${i}` });
    clock += 4 * 60_000;
    const again = store.send(q, { body: 'the very first id again', groupId: 'g0', dedupId: 'd-0' });

    expect(again.messageId).toBe(first.messageId);
    expect(again.sequenceNumber).toBe(first.sequenceNumber);
    expect(q.messages).toHaveLength(10_001);
  });

  it('refuses perMessageGroupId throughput without per-group dedup, as AWS does', async () => {
    await expect(fifo({ FifoThroughputLimit: 'perMessageGroupId' })).rejects.toMatchObject({
      name: 'InvalidAttributeValue',
    });
  });

  it('deduplicates outbound on content (no dedup id needed) and refuses an inbound send without one', async () => {
    const suffix = `-${uid()}`;
    const outbound = await createQueueWithDlq(sqs, QUEUES.outbound, suffix);
    const inbound = await createQueueWithDlq(sqs, QUEUES.inbound, suffix);
    const cmd = (QueueUrl: string) =>
      new SendMessageCommand({ QueueUrl, MessageBody: '{"idempotencyKey":"k1"}', MessageGroupId: 'g' });

    const a = await sqs.send(cmd(outbound.url));
    const b = await sqs.send(cmd(outbound.url));

    expect(b.MessageId).toBe(a.MessageId);
    await expect(sqs.send(cmd(inbound.url))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('receiving as AWS does it', () => {
  it('returns message attributes and system attributes only when asked for', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `b-${uid()}` }))).QueueUrl!;
    const MessageAttributes = {
      kind: { DataType: 'String', StringValue: 'mention' },
      'trace.id': { DataType: 'String', StringValue: 't-1' },
      size: { DataType: 'Number', StringValue: '3' },
    };
    for (let i = 0; i < 3; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}`, MessageAttributes }));
    }
    const get = async (names?: string[], system?: string[]) => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MessageAttributeNames: names,
          MessageSystemAttributeNames: system as never,
        }),
      );
      return out.Messages![0];
    };

    const plain = await get();
    const named = await get(['kind', 'trace.*']);
    const all = await get(['All'], ['All']);

    expect(plain.MessageAttributes).toBeUndefined();
    expect(plain.Attributes).toBeUndefined();
    expect(plain.MD5OfMessageAttributes).toBeUndefined();
    expect(Object.keys(named.MessageAttributes!).sort()).toEqual(['kind', 'trace.id']);
    expect(named.Attributes).toBeUndefined();
    expect(Object.keys(all.MessageAttributes!).sort()).toEqual(['kind', 'size', 'trace.id']);
    expect(all.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: expect.any(String) });
  });

  it('makes a received message visible again when the stand-in clock passes its visibility timeout', async () => {
    const url = (
      await sqs.send(
        new CreateQueueCommand({ QueueName: `b-${uid()}`, Attributes: { VisibilityTimeout: '60' } }),
      )
    ).QueueUrl!;
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'slow', DelaySeconds: 30 }));

    const whileDelayed = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    clock += 30_000;
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    clock += 59_000;
    const inFlight = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    clock += 2000;
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));

    expect(whileDelayed.Messages ?? []).toEqual([]);
    expect(first.Messages?.map((m) => m.Body)).toEqual(['slow']);
    expect(inFlight.Messages ?? []).toEqual([]);
    expect(again.Messages?.map((m) => m.Body)).toEqual(['slow']);
  });

  it('refuses a receipt handle it never issued with ReceiptHandleIsInvalid', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `b-${uid()}` }))).QueueUrl!;

    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'not-a-handle' })),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 } });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: 'AQEB', VisibilityTimeout: 0 }),
      ),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  });
});

describe('queues and errors as AWS answers them', () => {
  it('pages ListQueues with MaxResults and NextToken', async () => {
    const prefix = `page-${uid()}-`;
    for (const n of ['a', 'b', 'c', 'd', 'e'])
      await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}${n}` }));

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const out = await sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 2, NextToken: token }),
      );
      pages.push((out.QueueUrls ?? []).map((u) => u.split('/').pop()!.slice(prefix.length)));
      token = out.NextToken;
    } while (token);

    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('answers the JSON protocol with __type and x-amzn-query-error, the query protocol with an XML ErrorResponse', async () => {
    const json = await raw({
      body: JSON.stringify({ QueueName: `missing-${uid()}` }),
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
      sign: credentials,
    });
    const query = await raw({
      ...form({ Action: 'GetQueueUrl', QueueName: `missing-${uid()}` }),
      sign: credentials,
    });

    expect(json.status).toBe(400);
    expect(JSON.parse(json.body).__type).toMatch(/#QueueDoesNotExist$/);
    expect(json.headers['x-amzn-query-error']).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
    expect(query.status).toBe(400);
    expect(query.body).toMatch(
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>AWS\.SimpleQueueService\.NonExistentQueue<\/Code><Message>[^<]+<\/Message>/,
    );
  });

  it('answers ListQueues, SendMessage and ReceiveMessage over the query protocol in XML', async () => {
    const name = `q-${uid()}`;
    const created = await raw({ ...form({ Action: 'CreateQueue', QueueName: name }), sign: credentials });
    const url = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(created.body)![1];
    const listed = await raw({ ...form({ Action: 'ListQueues', QueueNamePrefix: name }), sign: credentials });
    const sent = await raw({
      ...form({
        Action: 'SendMessage',
        QueueUrl: url,
        MessageBody: 'a & b <c>',
        'MessageAttribute.1.Name': 'kind',
        'MessageAttribute.1.Value.DataType': 'String',
        'MessageAttribute.1.Value.StringValue': 'dm',
      }),
      sign: credentials,
    });
    const got = await raw({
      ...form({ Action: 'ReceiveMessage', QueueUrl: url, 'MessageAttributeName.1': 'kind' }),
      sign: credentials,
    });

    expect(listed.body).toContain(`<ListQueuesResult><QueueUrl>${url}</QueueUrl></ListQueuesResult>`);
    expect(sent.body).toMatch(/<SendMessageResult><MessageId>[^<]+<\/MessageId><MD5OfMessageBody>/);
    expect(got.body).toContain('<Body>a &amp; b &lt;c&gt;</Body>');
    expect(got.body).toContain(
      '<MessageAttribute><Name>kind</Name><Value><DataType>String</DataType><StringValue>dm</StringValue></Value></MessageAttribute>',
    );
  });
});

describe('the request guard', () => {
  const listQueues = form({ Action: 'ListQueues' });

  it('refuses unsigned requests, other keys and foreign Host headers', async () => {
    const unsigned = await raw(listQueues);
    const otherKey = await raw({ ...listQueues, sign: { accessKeyId: 'someone', secretAccessKey: 'else' } });
    const wrongSecret = await raw({
      ...listQueues,
      sign: { accessKeyId: 'local', secretAccessKey: 'guess' },
    });
    const rebound = await raw({ ...listQueues, sign: credentials, host: 'attacker.example:80' });
    const ok = await raw({ ...listQueues, sign: credentials });

    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(otherKey.body).toContain('<Code>InvalidClientTokenId</Code>');
    expect(wrongSecret.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(rebound.status).toBeGreaterThanOrEqual(400);
    expect(rebound.status).toBeLessThan(500);
    expect(ok.status).toBe(200);
  });
});
