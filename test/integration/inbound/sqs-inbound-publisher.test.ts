/**
 * The inbound SQS publisher (adapters/aws/sqs-inbound-publisher.ts) against the SQS stand-in through the
 * real client, with SendMessageBatch partial failures injected at the client's edge (../../helpers/aws-faults.ts):
 * refused entries are retried and queued once; entries refused every time make `publish` fail
 * `retryable` while naming the ones SQS did take (`queued`), for the delivered ledger.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, type AwsClients } from '../../../adapters/aws/clients';
import { createSqsInboundPublisher } from '../../../adapters/aws/sqs-inbound-publisher';
import type { InboundMessage } from '../../../contracts';
import { mentionToInbound } from '../../../core/inbound/mapping';
import { queuedBeforeFailure } from '../../../core/inbound/types';
import { AwsFaultTable } from '../../helpers/aws-faults';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { ACCOUNT, tweet } from '../../unit/inbound/fakes';

let aws: LocalAws;
let clients: AwsClients;
const faults = new AwsFaultTable();

beforeAll(async () => {
  aws = await startLocalAws();
  clients = faults.decorate(
    createAwsClients({ region: aws.region, endpoints: aws.endpoints, credentials: aws.credentials }),
  );
});
afterAll(async () => {
  clients.sqs.destroy();
  clients.dynamodb.destroy();
  clients.secrets.destroy();
  await aws.stop();
});
afterEach(() => faults.clear());

const msg = (id: number): InboundMessage =>
  mentionToInbound(
    tweet(id),
    {},
    { channelId: 'ch1', account: ACCOUNT, receivedAt: '2026-01-01T01:00:00.000Z' },
  );

async function drain(url: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const out = await aws.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return ids;
    for (const m of out.Messages) ids.push((JSON.parse(m.Body ?? '{}') as InboundMessage).id);
  }
}

describe('createSqsInboundPublisher: SendMessageBatch partial failures', () => {
  it('retries the entries SQS refused and queues each message once', async () => {
    const queues = await aws.createQueues();
    let fired = 0;
    faults.arm({
      service: 'sqs',
      kind: 'batch_partial',
      queueUrl: queues.inbound.url,
      remaining: 2,
      pickFailed: (ids) => ids.filter((_, i) => i % 2 === 1),
      onFire: () => fired++,
    });
    const publisher = createSqsInboundPublisher({
      client: clients.sqs,
      queueUrl: queues.inbound.url,
      sleep: async () => undefined,
    });
    await publisher.publish([1, 2, 3, 4, 5].map(msg));
    expect(fired).toBe(2);
    expect((await drain(queues.inbound.url)).sort()).toEqual(
      [1, 2, 3, 4, 5].map((i) => `x:tweet:${i}`).sort(),
    );
  });

  it('fails retryable when an entry is refused every time, naming the messages SQS did take', async () => {
    const queues = await aws.createQueues();
    faults.arm({
      service: 'sqs',
      kind: 'batch_partial',
      queueUrl: queues.inbound.url,
      remaining: 10,
      pickFailed: (ids) => ids.filter((id) => id === 'm2'),
      onFire: () => undefined,
    });
    const publisher = createSqsInboundPublisher({
      client: clients.sqs,
      queueUrl: queues.inbound.url,
      sleep: async () => undefined,
    });
    const error = await publisher.publish([1, 2, 3, 4].map(msg)).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'retryable', code: 'inbound_unavailable' });
    expect(queuedBeforeFailure(error).map((m) => m.id)).toEqual(['x:tweet:1', 'x:tweet:2', 'x:tweet:4']);
    expect((await drain(queues.inbound.url)).sort()).toEqual(['x:tweet:1', 'x:tweet:2', 'x:tweet:4']);
  });
});
