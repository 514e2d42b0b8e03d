/**
 * One post that mentions two connected accounts is two inbound messages, one per channel, through the
 * real poller and the local FIFO queue (DESIGN.md "Contracts": `MessageDeduplicationId` =
 * `<channelId>:<id>`; consumers dedupe by (`channelId`, `id`)).
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { parseInbound, type InboundMessage } from '../../../contracts';
import { connectChannel, startInboundHarness, useInboundWorld } from './harness';

const world = useInboundWorld();

describe('a post that mentions two connected accounts', () => {
  it('reaches each channel once, with the same id and a dedup id per channel', async () => {
    // Prepare
    const { aws, sim, clock } = world;
    const h = await startInboundHarness(aws, sim);
    const acme = await connectChannel(aws, sim, 'acme');
    const globex = await connectChannel(aws, sim, 'globex');
    const customer = sim.createUser({ username: 'carla', name: 'Carla' }).id;
    clock.advance(1000);
    const post = sim.createTweet({ authorId: customer, text: '@acme @globex my order never arrived' });

    // Act: both channels are polled in one tick; a second tick republishes nothing
    await h.tick();
    const received: Array<{ message: InboundMessage; raw: Message }> = [];
    for (;;) {
      const out = await aws.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: h.queues.inbound.url,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['MessageDeduplicationId', 'MessageGroupId'],
        }),
      );
      if (!out.Messages?.length) break;
      for (const raw of out.Messages) {
        const parsed = parseInbound(raw.Body ?? '');
        if (!parsed.ok) throw new Error(`inbound body is not v1: ${parsed.error}`);
        received.push({ message: parsed.value, raw });
        await aws.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: h.queues.inbound.url, ReceiptHandle: raw.ReceiptHandle }),
        );
      }
    }
    clock.advance(10 * 60_000);
    await h.tick();
    const later = await h.drainInbound();

    // Assess
    const byChannel = received
      .map(({ message, raw }) => ({
        channelId: message.channelId,
        account: message.account.username,
        id: message.id,
        dedupId: raw.Attributes?.MessageDeduplicationId,
        groupId: raw.Attributes?.MessageGroupId,
      }))
      .sort((a, b) => a.account.localeCompare(b.account));
    expect(byChannel).toEqual([
      {
        channelId: acme.channel.id,
        account: 'acme',
        id: `x:tweet:${post.id}`,
        dedupId: `${acme.channel.id}:x:tweet:${post.id}`,
        groupId: `${acme.channel.id}:${post.conversationId}`,
      },
      {
        channelId: globex.channel.id,
        account: 'globex',
        id: `x:tweet:${post.id}`,
        dedupId: `${globex.channel.id}:x:tweet:${post.id}`,
        groupId: `${globex.channel.id}:${post.conversationId}`,
      },
    ]);
    expect(later).toEqual([]);
  });
});
