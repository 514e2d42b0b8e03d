/**
 * Outbound end to end: outbound queue → sender handler → simulated X → results queue, through the real
 * AWS SDK v3 clients and twitter-api-v2.
 */
import { OUTBOUND_SCHEMA, resultMessageSchema, type ResultMessage } from '../../../contracts';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import type { SimX } from '../../../sim/x/server';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { startTestSim } from '../sim-x/helpers';
import { connectChannel, simDms, simTweets, startSenderHarness, type SenderHarness } from './harness';

let aws: LocalAws;
let sim: SimX;
let h: SenderHarness;
let channelId: string;
let accountId: string;
let customerId: string;
let seq = 0;

const key = () => `case-${Date.now().toString(36)}-${++seq}`;
const cmd = (fields: Record<string, unknown>) => ({
  schema: OUTBOUND_SCHEMA,
  channelId,
  idempotencyKey: key(),
  ...fields,
});

function only(results: ResultMessage[], idempotencyKey: string): ResultMessage[] {
  const mine = results.filter((r) => r.idempotencyKey === idempotencyKey);
  for (const r of mine) expect(resultMessageSchema.safeParse(r).success).toBe(true);
  return mine;
}

/** A fresh mention of the account by the customer (what an inbound message's replyTo points at). */
function mention(text = 'my order is late') {
  return sim.createTweet({ authorId: customerId, text: `@acme_help ${text} ${++seq}` });
}

beforeAll(async () => {
  aws = await startLocalAws();
  sim = await startTestSim({ clock: { now: () => Date.now() } });
  ({
    accountId,
    channel: { id: channelId },
  } = await connectChannel(aws, sim, 'acme_help'));
  customerId = sim.createUser({ username: 'carla', name: 'Carla' }).id;
  h = await startSenderHarness(aws, sim);
});

afterAll(async () => {
  await sim?.stop();
  await aws?.stop();
});

afterEach(() => sim.clearFaults());

describe('sender: delivered exactly once, with a result', () => {
  it('a mention answered by a reply: one reply in the thread by the account, a sent result with its id', async () => {
    // Prepare
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'Sorry about that, we are on it.' });
    // Act
    await h.send(command);
    await h.drain();
    // Assess
    const replies = (await simTweets(sim, accountId)).filter((t) => t.inReplyToId === m.id);
    expect(replies).toHaveLength(1);
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result).toMatchObject({ status: 'sent', xId: replies[0].id, channelId });
  });

  it('a DM answered in its conversation: one DM by the account, a sent result with the DM event id', async () => {
    const dm = sim.sendDm({ senderId: customerId, recipientId: accountId, text: 'hello, can you help?' });
    const command = cmd({ kind: 'dm', targetId: dm.conversationId, text: `Of course! ${seq}` });
    await h.send(command);
    await h.drain();
    const sent = (await simDms(sim, accountId)).filter((d) => d.text === command.text);
    expect(sent).toHaveLength(1);
    expect(sent[0].conversationId).toBe(dm.conversationId);
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result).toMatchObject({ status: 'sent', xId: sent[0].id });
  });

  it('a DM to a user id uses the participant endpoint', async () => {
    const command = cmd({ kind: 'dm', targetId: customerId, text: `Following up on your case ${seq}` });
    await h.send(command);
    await h.drain();
    expect((await simDms(sim, accountId)).filter((d) => d.text === command.text)).toHaveLength(1);
    expect(h.xRequests).toContain('POST /2/dm_conversations/with/:participant_id/messages');
    expect(only(await h.results(), command.idempotencyKey)[0].status).toBe('sent');
  });

  it('the same command sent 5 times → one post, five results that agree', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'One answer only.' });
    for (let i = 0; i < 5; i++) await h.send(command, `dup-${i}`); // separate groups: delivered in one batch
    await h.drain();
    expect((await simTweets(sim, accountId)).filter((t) => t.inReplyToId === m.id)).toHaveLength(1);
    const results = only(await h.results(), command.idempotencyKey);
    expect(results).toHaveLength(5);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0].status).toBe('sent');
  });

  it('a crash between X answer and the record completion → the redelivery finds the reply at X: one post', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'Answer that survives a crash.' });
    // The attempt dies right after X answered: completion and every later write fail (DynamoDB gone).
    const store = h.runtime.deps.idempotency;
    const original = { ...store };
    let crashing = true;
    const crash = async () => {
      throw Object.assign(new Error('connection lost'), { name: 'NetworkingError' });
    };
    Object.assign(store, {
      complete: (...a: Parameters<typeof store.complete>) => (crashing ? crash() : original.complete(...a)),
      markUncertain: (...a: Parameters<typeof store.markUncertain>) =>
        crashing ? crash() : original.markUncertain(...a),
    });
    try {
      await h.send(command);
      await h.deliverOnce();
    } finally {
      crashing = false;
      Object.assign(store, original);
    }
    expect(await h.results()).toHaveLength(0);
    const before = h.xRequests.filter((r) => r === 'POST /2/tweets').length;
    // The visibility timeout (120 s) outlasts the lease (60 s): the redelivery may take over.
    h.clock.advance(121);
    await h.expireVisibility();
    await h.send(command); // and the case system sends it again, too
    await h.drain();
    expect((await simTweets(sim, accountId)).filter((t) => t.inReplyToId === m.id)).toHaveLength(1);
    expect(h.xRequests.filter((r) => r === 'POST /2/tweets').length).toBe(before);
    expect(h.xRequests).toContain('GET /2/users/:id/tweets');
    const results = only(await h.results(), command.idempotencyKey);
    expect(results).toHaveLength(2);
    expect(new Set(results.map((r) => (r.status === 'sent' ? r.xId : 'failed'))).size).toBe(1);
    expect(results[0].status).toBe('sent');
  });
});
