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
const cmd = (
  fields: Record<string, unknown>,
): Record<string, unknown> & { idempotencyKey: string; text?: string } => ({
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
    h.clock.advanceSeconds(121);
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

describe('sender: every failure ends in a result (or a wait), never a double post', () => {
  const posts = () => sim.requests()['POST /2/tweets'] ?? 0;

  it('429 → the command waits (no result, message held), then is sent once after the reset', async () => {
    // its own account and clock: the 429 closes POST /2/tweets for that channel until the reset
    const own = await startSenderHarness(aws, sim);
    const limited = await connectChannel(aws, sim, 'acme_rl429');
    const m = sim.createTweet({ authorId: customerId, text: `@acme_rl429 where is my parcel ${++seq}` });
    const command = cmd({
      channelId: limited.channel.id,
      kind: 'reply',
      targetId: m.id,
      text: 'After the rate limit.',
    });
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'status', status: 429, resetSeconds: 600 });
    await own.send(command);
    await own.drain();
    expect(only(await own.results(), command.idempotencyKey)).toHaveLength(0);
    expect(await own.deliverOnce()).toBe(0); // held: invisible until the reset
    await own.expireVisibility();
    await own.drain(); // visible again before the reset: the stored reset holds it back, X is not called
    expect(only(await own.results(), command.idempotencyKey)).toHaveLength(0);
    own.clock.advanceSeconds(602); // X's reset is whole seconds, rounded up
    await own.expireVisibility();
    await own.drain();
    expect(only(await own.results(), command.idempotencyKey)[0].status).toBe('sent');
    expect((await simTweets(sim, limited.accountId)).filter((t) => t.inReplyToId === m.id)).toHaveLength(1);
  });

  it('503 → retried with back-off, then sent', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'After an outage.' });
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'status', status: 503 });
    await h.send(command);
    await h.drain();
    expect(only(await h.results(), command.idempotencyKey)).toHaveLength(0);
    await h.expireVisibility();
    await h.drain();
    expect(only(await h.results(), command.idempotencyKey)[0].status).toBe('sent');
  });

  it('a write without an answer (timeout) → the redelivery checks X, finds nothing, posts once', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'After a timeout.' });
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'timeout' });
    await h.send(command);
    await h.drain();
    await h.expireVisibility();
    await h.drain();
    expect(only(await h.results(), command.idempotencyKey)[0].status).toBe('sent');
    expect((await simTweets(sim, accountId)).filter((t) => t.inReplyToId === m.id)).toHaveLength(1);
  });

  it('a timeout and X unable to tell (lookup refused) → unknown_delivery_state, no blind second post', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'Maybe delivered.' });
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'timeout' });
    sim.setFault({ endpoint: 'GET /2/users/:id/tweets', kind: 'status', status: 403, sticky: true });
    await h.send(command);
    await h.drain();
    const before = posts();
    await h.expireVisibility();
    await h.drain();
    expect(posts()).toBe(before);
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'unknown_delivery_state',
      retryable: false,
    });
  });

  it.each<[string, () => Promise<Record<string, unknown>>, () => void]>([
    [
      'duplicate_content',
      async () => {
        const m = mention();
        const text = `Same words twice ${seq}`;
        await h.send(cmd({ kind: 'reply', targetId: m.id, text }));
        await h.drain();
        await h.results();
        return { kind: 'reply', targetId: m.id, text };
      },
      () => undefined,
    ],
    [
      'reply_not_allowed',
      async () => ({
        kind: 'reply',
        targetId: sim.createTweet({ authorId: customerId, text: `no mention ${seq}` }).id,
        text: 'hi',
      }),
      () => undefined,
    ],
    [
      'target_not_found',
      async () => ({ kind: 'reply', targetId: '1234567890123456789', text: 'hi there' }),
      () => undefined,
    ],
    [
      'dm_not_allowed',
      async () => {
        const closed = sim.createUser({ username: `closed${seq}`, name: 'Closed' }).id;
        sim.setDmAcceptance(closed, 'none');
        return { kind: 'dm', targetId: closed, text: 'hello' };
      },
      () => undefined,
    ],
    [
      'credits_depleted',
      async () => {
        sim.setCredits(0);
        return { kind: 'reply', targetId: mention().id, text: 'no credits' };
      },
      () => sim.setCredits(null),
    ],
    [
      'access_level',
      async () => {
        sim.setFault({ endpoint: 'POST /2/tweets', kind: 'status', status: 403 });
        return { kind: 'reply', targetId: mention().id, text: 'plan too low' };
      },
      () => undefined,
    ],
  ])(
    'X refuses with %s → a failed result with that code, message deleted',
    async (code, prepare, restore) => {
      try {
        const command = cmd(await prepare());
        await h.send(command);
        await h.drain();
        const [result] = only(await h.results(), command.idempotencyKey);
        expect(result.status === 'failed' && result.error.code).toBe(code);
        expect(await h.deliverOnce()).toBe(0);
      } finally {
        restore();
      }
    },
  );

  it.each([
    ['URL-heavy', Array.from({ length: 13 }, (_, i) => `https://example.com/${i}`).join(' ')],
    ['CJK', '漢'.repeat(141)],
  ])('over-length %s text → text_too_long before any X call', async (_name, text) => {
    const before = JSON.stringify(sim.requests());
    const command = cmd({ kind: 'reply', targetId: mention().id, text });
    await h.send(command);
    await h.drain();
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'text_too_long',
      retryable: false,
    });
    expect(JSON.stringify(sim.requests())).toBe(before);
  });

  it('same key with another text → key_reuse, nothing posted for it', async () => {
    const m = mention();
    const command = cmd({ kind: 'reply', targetId: m.id, text: 'First text.' });
    await h.send(command);
    await h.drain();
    await h.send({ ...command, text: 'Second text.' });
    await h.drain();
    const results = only(await h.results(), command.idempotencyKey);
    expect(results.map((r) => (r.status === 'failed' ? r.error.code : r.status))).toEqual([
      'sent',
      'key_reuse',
    ]);
    expect((await simTweets(sim, accountId)).filter((t) => t.inReplyToId === m.id)).toHaveLength(1);
  });

  it('a body that is not JSON → DLQ with a reason, no result', async () => {
    await h.send('{not json', 'garbage');
    await h.drain();
    const [dead] = await h.dlq();
    expect(dead.MessageAttributes?.reason?.StringValue).toMatch(/not valid JSON/);
  });

  it('a command failing the schema → failed invalid_input naming the field, and the DLQ', async () => {
    const command = cmd({ kind: 'reply', targetId: 'not-a-tweet-id', text: 'x' });
    await h.send(command);
    await h.drain();
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result.status === 'failed' && result.error.code).toBe('invalid_input');
    expect(result.status === 'failed' && result.error.message).toMatch(/targetId/);
    const dead = await h.dlq();
    expect(dead.some((d) => d.MessageAttributes?.reason?.StringValue?.includes('targetId'))).toBe(true);
  });

  it('unknown channel → channel_not_found; paused → held without a call to X; needs_reauth → failed', async () => {
    const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
    const paused = await connectChannel(aws, sim, `paused${seq}`, { status: 'paused' });
    const stale = await connectChannel(aws, sim, `stale${seq}`, { status: 'needs_reauth' });
    const before = JSON.stringify(sim.requests());
    const unknown = cmd({ channelId: 'ch_nope', kind: 'post', text: 'hello' });
    const held = { ...cmd({ kind: 'post', text: 'paused hello' }), channelId: paused.channel.id };
    const refused = { ...cmd({ kind: 'post', text: 'stale hello' }), channelId: stale.channel.id };
    for (const c of [unknown, held, refused]) await h.send(c);
    await h.drain();
    const codes = Object.fromEntries(
      (await h.results()).map((r) => [r.idempotencyKey, r.status === 'failed' ? r.error.code : r.status]),
    );
    expect(codes).toEqual({
      [unknown.idempotencyKey]: 'channel_not_found',
      [refused.idempotencyKey]: 'needs_reauth',
    });
    expect(JSON.stringify(sim.requests())).toBe(before);
    // resumed → the held command goes out
    const current = await store.get(paused.channel.id);
    await store.update(paused.channel.id, current!.version, { status: 'active' });
    await h.expireVisibility();
    await h.drain();
    expect(only(await h.results(), held.idempotencyKey)[0].status).toBe('sent');
  });

  it('a token X refuses (401, refresh impossible) → needs_reauth result and the channel marked', async () => {
    const other = await connectChannel(aws, sim, `revoked${seq}`);
    sim.revokeUserTokens(other.accountId);
    const command = { ...cmd({ kind: 'post', text: 'with a dead token' }), channelId: other.channel.id };
    await h.send(command);
    await h.drain();
    const [result] = only(await h.results(), command.idempotencyKey);
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'needs_reauth',
      retryable: true,
    });
    const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
    expect((await store.get(other.channel.id))?.status).toBe('needs_reauth');
  });

  it('X unavailable on the last receive → failed x_unavailable (retryable) instead of a silent DLQ', async () => {
    const last = await startSenderHarness(aws, sim, {}, { OUTBOUND_MAX_RECEIVE_COUNT: '2' });
    sim.setFault({ endpoint: 'POST /2/tweets', kind: 'status', status: 503, sticky: true });
    const command = cmd({ kind: 'reply', targetId: mention().id, text: 'During a long outage.' });
    await last.send(command);
    await last.drain();
    await last.expireVisibility();
    await last.drain();
    const [result] = only(await last.results(), command.idempotencyKey);
    expect(result.status === 'failed' && result.error).toMatchObject({
      code: 'x_unavailable',
      retryable: true,
    });
  });
});
