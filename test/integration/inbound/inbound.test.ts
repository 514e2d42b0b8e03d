/**
 * Mentions and DMs reach the inbound queue exactly once, through the real dispatcher and poller
 * handlers, DynamoDB/SQS/Secrets Manager stand-ins and the simulated X.
 */
import type { LocalAws } from '../../helpers/local-aws';
import type { SimX } from '../../../sim/x/server';
import type { InboundMessage } from '../../../contracts';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { connectChannel, startInboundHarness, useInboundWorld, type InboundWorld } from './harness';

const world = useInboundWorld();
let aws: LocalAws;
let sim: SimX;
let clock: InboundWorld['clock'];
beforeEach(() => ({ aws, sim, clock } = world));

const ids = (ms: InboundMessage[]) => ms.map((m) => m.id);

/** Within each conversation, messages must arrive in creation order. */
function expectOrderedPerConversation(messages: InboundMessage[]) {
  const byConv = new Map<string, InboundMessage[]>();
  for (const m of messages) byConv.set(m.conversationId, [...(byConv.get(m.conversationId) ?? []), m]);
  for (const list of byConv.values()) {
    const times = list.map((m) => Date.parse(m.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }
}

describe('inbound end to end', () => {
  it('N mentions and N DMs arrive exactly once with author, conversation, reply target and attachments; own posts/DMs never', async () => {
    // Prepare
    const h = await startInboundHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'acme');
    const customers = ['carla', 'diego', 'elena'].map((u) => ({
      u,
      id: sim.createUser({ username: u, name: u.toUpperCase() }).id,
    }));
    clock.advance(1000);
    const roots = customers.map((c) => sim.createTweet({ authorId: c.id, text: `@acme help ${c.u}` }));
    const expectedTweets = [...roots];
    for (let i = 0; i < 12; i++) {
      const c = customers[i % 3];
      clock.advance(1000);
      expectedTweets.push(
        sim.createTweet({
          authorId: c.id,
          text: `@acme more ${i}`,
          inReplyToId: roots[i % 3].id,
          mediaCount: i === 0 ? 2 : 0,
        }),
      );
    }
    const longOne = sim.createTweet({ authorId: customers[0].id, text: '@acme long', longText: true });
    expectedTweets.push(longOne);
    const expectedDms: Array<{ id: string; conversationId: string }> = [];
    for (let i = 0; i < 15; i++) {
      clock.advance(1000);
      expectedDms.push(
        sim.sendDm({
          senderId: customers[i % 3].id,
          recipientId: accountId,
          text: `dm ${i}`,
          mediaCount: i === 1 ? 1 : 0,
        }),
      );
    }
    // the account's own post mentioning itself and its own DM: never inbound
    sim.createTweet({ authorId: accountId, text: '@acme note to self' });
    sim.sendDm({ senderId: accountId, recipientId: customers[0].id, text: 'our answer' });

    // Act
    const first = await h.tick();
    const delivered = await h.drainInbound();

    // Assess
    expect(first.enqueued).toBe(1);
    expect(ids(delivered).sort()).toEqual(
      [...expectedTweets.map((t) => `x:tweet:${t.id}`), ...expectedDms.map((d) => `x:dm:${d.id}`)].sort(),
    );
    const reply = delivered.find((m) => m.id === `x:tweet:${expectedTweets[3].id}`)!;
    expect(reply).toMatchObject({
      channelId: channel.id,
      account: { id: accountId, username: 'acme' },
      kind: 'mention',
      conversationId: roots[0].conversationId,
      inReplyToId: roots[0].id,
      author: { id: customers[0].id, username: 'carla', name: 'CARLA' },
      replyTo: { kind: 'reply', targetId: expectedTweets[3].id },
      dmLink: `https://x.com/messages/compose?recipient_id=${accountId}`,
    });
    expect(reply.attachments).toHaveLength(2);
    // media.fields asks for alt_text: the simulated X's photos carry one
    expect(reply.attachments[0]).toMatchObject({ type: 'photo', altText: 'simulated photo' });
    expect(delivered.find((m) => m.id === `x:tweet:${longOne.id}`)!.text.length).toBeGreaterThan(280);
    const aDm = delivered.find((m) => m.id === `x:dm:${expectedDms[1].id}`)!;
    expect(aDm).toMatchObject({
      kind: 'dm',
      conversationId: expectedDms[1].conversationId,
      replyTo: { kind: 'dm', targetId: expectedDms[1].conversationId },
      author: { id: customers[1].id, username: 'diego' },
    });
    expect(aDm.attachments).toHaveLength(1);
    expectOrderedPerConversation(delivered);

    // a later tick reads nothing new and sends nothing again
    clock.advance(10 * 60_000);
    await h.tick();
    expect(await h.drainInbound()).toEqual([]);
    const stored = await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).get(
      channel.id,
    );
    expect(stored!.health.counters).toMatchObject({
      mentionsDelivered: expectedTweets.length,
      dmsDelivered: 15,
    });
    expect(stored!.health.lastSuccessAt).toBe(new Date(sim.now()).toISOString());
    expect(stored!.version).toBe(1);
  });
});
