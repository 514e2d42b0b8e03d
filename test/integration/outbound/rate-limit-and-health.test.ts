/**
 * The sender's rate-limit state and health counters on the channel item, through the real handler, the
 * DynamoDB/SQS/Secrets stand-ins and the simulated X (its clock follows real time here, so X's resets are
 * in our future as they are in production).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { OUTBOUND_SCHEMA, type ResultMessage } from '../../../contracts';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoSendHealth } from '../../../adapters/aws/dynamo-send-health';
import { keys } from '../../../adapters/aws/table';
import type { Channel } from '../../../core/channel';
import type { SimX } from '../../../sim/x/server';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { startTestSim } from '../sim-x/helpers';
import { connectChannel, startSenderHarness } from './harness';

const POST_TWEETS = 'POST /2/tweets';
const DM_WITH = 'POST /2/dm_conversations/with/:participant_id/messages';
const DM_IN = 'POST /2/dm_conversations/:dm_conversation_id/messages';

let aws: LocalAws;
let sim: SimX;
let customerId: string;
let seq = 0;

beforeAll(async () => {
  aws = await startLocalAws();
  sim = await startTestSim({ clock: { now: () => Date.now() } });
  customerId = sim.createUser({ username: 'rl_customer', name: 'Customer' }).id;
});
afterAll(async () => {
  await sim?.stop();
  await aws?.stop();
});
afterEach(() => sim.clearFaults());

const channelStore = () => createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
const readChannel = async (id: string) => (await channelStore().get(id)) as Channel;
const command = (channelId: string, fields: Record<string, unknown>) => ({
  schema: OUTBOUND_SCHEMA,
  channelId,
  idempotencyKey: `rlh-${Date.now().toString(36)}-${++seq}`,
  ...fields,
});
const codeOf = (r: ResultMessage) => (r.status === 'failed' ? r.error.code : r.status);
/** Calls the sim made for `accountId` on `endpoint`, with their status, in order. */
const calls = (accountId: string, endpoint: string) =>
  sim.rateLimitLog().filter((e) => e.userId === accountId && e.endpoint === endpoint);

describe('sender rate-limit state on the channel item', () => {
  it('a 429 is stored as health.notBefore; a second sender instance (empty memory) waits for it too', async () => {
    // Prepare: two independent sender runtimes over the same table, like two Lambda instances
    const first = await startSenderHarness(aws, sim);
    const second = await startSenderHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'rl_twoinst');
    const t1 = sim.createTweet({ authorId: customerId, text: '@rl_twoinst first' });
    const t2 = sim.createTweet({ authorId: customerId, text: '@rl_twoinst second' });
    sim.setFault({
      endpoint: POST_TWEETS,
      kind: 'status',
      status: 429,
      resetSeconds: 300,
      userId: accountId,
    });
    // Act
    await first.send(command(channel.id, { kind: 'reply', targetId: t1.id, text: 'one' }));
    await first.drain();
    await second.send(command(channel.id, { kind: 'reply', targetId: t2.id, text: 'two' }));
    await second.drain();
    // Assess
    const log = calls(accountId, POST_TWEETS);
    expect(log.map((e) => e.status)).toEqual([429]);
    const stored = await readChannel(channel.id);
    expect(Date.parse(stored.health.notBefore[POST_TWEETS])).toBe(log[0].reset! * 1000);
    expect(stored.version).toBe(channel.version); // health writes never bump the admin version
    expect(await first.results()).toEqual([]);
    expect(await second.results()).toEqual([]);
    expect(await second.deliverOnce()).toBe(0); // held until the reset, not failed
  });

  it('a spent DM window (15 per 15 min) → the next DM waits instead of provoking the 429', async () => {
    // Prepare
    const h = await startSenderHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'rl_dmwindow');
    // Act: 15 DMs use the per-user window up; the 16th (into a conversation id: the shared window) comes next
    for (let i = 0; i < 15; i++)
      await h.send(command(channel.id, { kind: 'dm', targetId: customerId, text: `dm ${i}` }), `g${i}`);
    await h.drain();
    const sent = await h.results();
    await h.send(
      command(channel.id, { kind: 'dm', targetId: `${customerId}-${accountId}`, text: 'the 16th' }),
    );
    await h.drain();
    // Assess
    expect(sent.map(codeOf)).toEqual(Array(15).fill('sent'));
    expect(await h.results()).toEqual([]); // waiting, no result yet
    expect(calls(accountId, DM_WITH).map((e) => e.status)).toEqual(Array(15).fill(201));
    expect(calls(accountId, DM_IN)).toEqual([]);
    const stored = await readChannel(channel.id);
    expect(stored.health.rateLimits[DM_WITH]).toMatchObject({ limit: 15, remaining: 0 });
    expect(Date.parse(stored.health.rateLimits[DM_WITH].resetAt)).toBeGreaterThan(Date.now());
    expect(stored.health.counters.sent).toBe(15);
  });
});

describe('sender health counters and lastError for the admin console', () => {
  it('sent and failed results are counted; access_level sets lastError; the version stays', async () => {
    const h = await startSenderHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'rl_counters');
    const ok = sim.createTweet({ authorId: customerId, text: '@rl_counters hi' });
    const refused = sim.createTweet({ authorId: customerId, text: '@rl_counters again' });
    const okCommand = command(channel.id, { kind: 'reply', targetId: ok.id, text: 'hello' });
    await h.send(okCommand);
    await h.drain();
    await h.send(okCommand); // a duplicate: its stored result again, not counted twice
    await h.drain();
    sim.setFault({ endpoint: POST_TWEETS, kind: 'status', status: 403, userId: accountId });
    await h.send(command(channel.id, { kind: 'reply', targetId: refused.id, text: 'plan?' }));
    await h.drain();

    const results = await h.results();
    expect(results.map(codeOf).sort()).toEqual(['access_level', 'sent', 'sent']);
    const stored = await readChannel(channel.id);
    expect(stored.health.counters).toMatchObject({ sent: 1, failed: 1 });
    expect(stored.health.lastError).toMatchObject({ code: 'access_level', kind: 'permanent' });
    expect(stored.health.rateLimits[POST_TWEETS]).toMatchObject({ limit: expect.any(Number) });
    expect(stored.version).toBe(channel.version);
  });

  it('an item written before health maps existed gets them; a deleted channel stays deleted', async () => {
    const health = createDynamoSendHealth({ client: aws.clients.doc, tableName: aws.tableName });
    const id = `ch_bare${Date.now().toString(36)}`;
    await aws.clients.doc.send(
      new PutCommand({
        TableName: aws.tableName,
        Item: { ...keys.channel(id), type: 'channel', version: 3 },
      }),
    );
    await health.record(id, { counters: { failed: 1 } });
    await health.block(id, POST_TWEETS, new Date('2030-01-01T00:00:00Z'));
    await health.block(id, POST_TWEETS, new Date('2029-01-01T00:00:00Z')); // earlier: the later one stays
    await health.record(id, { counters: { failed: 2, sent: 1 } });
    const item = (
      await aws.clients.doc.send(new GetCommand({ TableName: aws.tableName, Key: keys.channel(id) }))
    ).Item;
    expect(item?.health).toEqual({
      rateLimits: {},
      notBefore: { [POST_TWEETS]: '2030-01-01T00:00:00.000Z' },
      counters: { failed: 3, sent: 1 },
    });
    expect(item?.version).toBe(3);

    const gone = `ch_gone${Date.now().toString(36)}`;
    await health.record(gone, { counters: { sent: 1 } });
    await health.block(gone, POST_TWEETS, new Date('2030-01-01T00:00:00Z'));
    const none = await aws.clients.doc.send(
      new GetCommand({ TableName: aws.tableName, Key: keys.channel(gone) }),
    );
    expect(none.Item).toBeUndefined();
  });
});
