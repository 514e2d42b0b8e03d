/**
 * The dispatcher through the real DynamoDB due index and the SQS poll-jobs queue: one job per due
 * channel, across Query pages, and overlapping ticks never double the work.
 */
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { parsePollJob } from '../../../adapters/aws/sqs-poll-jobs';
import { DEFAULT_OPTIONS, emptyHealth, type Channel } from '../../../core/channel';
import { compose as composeDispatcher } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import { createLogger } from '../../../lambdas/shared/logger';
import { mapLimit } from '../../../core/inbound/concurrency';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.stop();
});

it('overlapping ticks: one KEYS_ONLY listing each, jobs with the due time and one dedup key per channel and tick; paused channels none', async () => {
  const queues = await aws.createQueues();
  const now = new Date('2026-09-01T12:00:00.000Z');
  const clock = { now: () => now };
  const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName, clock });
  const mk = (i: number, status: Channel['status']): Channel => ({
    id: `ch_d${String(i).padStart(4, '0')}`,
    name: null,
    status,
    statusReason: null,
    account: { id: String(5000 + i), username: `u${i}`, name: 'U', avatarUrl: null },
    listenMentions: true,
    listenDms: false,
    autoFollow: false,
    scopes: [],
    options: { ...DEFAULT_OPTIONS },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    connectedAt: now.toISOString(),
    checkpoints: { mentionsSinceId: null, dmEventId: null, dmCreatedAt: null },
    health: emptyHealth(),
    version: 1,
  });
  await mapLimit(
    Array.from({ length: 150 }, (_, i) => i),
    16,
    (i) => store.create(mk(i, i % 10 === 0 ? 'paused' : 'active')),
  );
  const runtime = composeDispatcher(
    loadDispatcherConfig({
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      POLL_JOBS_QUEUE_URL: queues.pollJobs.url,
    }),
    { clients: aws.clients, clock, logger: createLogger({ logLevel: 'ERROR' }) },
  );
  // Two overlapping ticks both list every due channel (the dispatcher writes nothing); their jobs carry
  // the same dedup key and due time, so the poller's claim lets one of each through (poll.test.ts).
  const [a, b] = await Promise.all([runtime.tick(), runtime.tick()]);
  expect([a.enqueued, b.enqueued]).toEqual([135, 135]);

  const jobs: string[] = [];
  const dedupKeys = new Set<string>();
  for (;;) {
    const out = await aws.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.pollJobs.url, MaxNumberOfMessages: 10 }),
    );
    if (!out.Messages?.length) break;
    for (const m of out.Messages) {
      const job = parsePollJob(m.Body!);
      expect(job.tick).toBe(now.toISOString());
      expect(job.dueAt).toBeDefined();
      dedupKeys.add(job.dedupKey!);
      jobs.push(job.channelId);
      await aws.clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queues.pollJobs.url, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
  const expected = Array.from({ length: 150 }, (_, i) => i)
    .filter((i) => i % 10 !== 0)
    .map((i) => `ch_d${String(i).padStart(4, '0')}`);
  expect([...new Set(jobs)].sort()).toEqual(expected);
  expect(jobs).toHaveLength(270);
  expect([...dedupKeys].sort()).toEqual(expected.map((id) => `${id}@${now.toISOString()}`));
  expect(await runtime.gauges()).toEqual({ degraded: 0, needsReauth: 0 });
});

it('a poll job body that is not a job names the field', () => {
  expect(() => parsePollJob('{"channelId":"ch 1","tick":"2026-09-01T12:00:00Z"}')).toThrow(/channelId/);
  expect(() => parsePollJob('{"channelId":"ch1"}')).toThrow(/tick/);
  expect(() => parsePollJob('nope')).toThrow(/body/);
});
