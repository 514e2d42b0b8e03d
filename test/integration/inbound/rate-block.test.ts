/**
 * A 429's block outlives a poll that never reaches its final write (soak seed 750): the real poller
 * handler, DynamoDB and SQS stand-ins and the simulated X, whose rate-limit log is the judge.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoPollState } from '../../../adapters/aws/dynamo-poll-state';
import { keys } from '../../../adapters/aws/table';
import { retryable } from '../../../core/errors';
import { MENTIONS_ENDPOINT } from '../../../core/inbound/planner';
import type { InboundMessage } from '../../../contracts';
import type { SimX } from '../../../sim/x/server';
import type { LocalAws } from '../../helpers/local-aws';
import { clockOf, connectChannel, startInboundHarness, useInboundWorld, type InboundWorld } from './harness';

const world = useInboundWorld();
let aws: LocalAws;
let sim: SimX;
let clock: InboundWorld['clock'];
beforeEach(() => ({ aws, sim, clock } = world));

const ids = (ms: InboundMessage[]) => ms.map((m) => m.id).sort();
const store = () =>
  createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName, clock: clockOf(sim) });

/** Every call to `endpoint` for `userId` after a 429 must come at or after that 429's reset. */
function callsInsideA429Window(endpoint: string, userId: string): string[] {
  let blockedUntil = 0;
  const inside: string[] = [];
  for (const e of sim.rateLimitLog()) {
    if (e.endpoint !== endpoint || e.userId !== userId) continue;
    if (e.at < blockedUntil) inside.push(new Date(e.at).toISOString());
    if (e.status === 429 && e.reset) blockedUntil = e.reset * 1000;
  }
  return inside;
}

describe('a 429 block survives the failure of the rest of the poll', () => {
  it('crash before the final write, after a 429 on mentions → the redelivered job does not call mentions before the reset', async () => {
    const h = await startInboundHarness(aws, sim);
    const state = h.poller.deps.state;
    let crashes = 1;
    h.poller.deps.state = {
      ...state,
      finishPoll: async (...args) => {
        // the process dies before the write that carries checkpoints and health
        if (crashes-- > 0) throw retryable('internal', 'injected crash before the final write');
        await state.finishPoll(...args);
      },
      // a dead process hands nothing back: the redelivery takes its own claim again
      releasePoll: async () => undefined,
    };
    const { channel, accountId } = await connectChannel(aws, sim, 'acme');
    const customer = sim.createUser({ username: 'cust1', name: 'Customer' }).id;
    clock.advance(1000);
    const mention = sim.createTweet({ authorId: customer, text: '@acme help' }).id;
    const dmId = sim.sendDm({ senderId: customer, recipientId: accountId, text: 'hello' }).id;
    sim.setFault({
      endpoint: MENTIONS_ENDPOINT,
      kind: 'status',
      status: 429,
      resetSeconds: 90,
      userId: accountId,
    });
    await h.tick();
    expect(h.failedJobs).toBe(1);
    const limited = sim.rateLimitLog().find((e) => e.endpoint === MENTIONS_ENDPOINT && e.status === 429)!;
    expect(limited.reset).toBeDefined();
    // stored although the final write never happened
    const blocked = (await store().get(channel.id))!;
    expect(blocked.health.notBefore[MENTIONS_ENDPOINT]).toBe(new Date(limited.reset! * 1000).toISOString());

    // the redelivery (same SQS message) reads DMs, not mentions
    await h.redeliver();
    expect(h.failedJobs).toBe(0);
    expect(ids(await h.drainInbound())).toEqual([`x:dm:${dmId}`]);
    expect(callsInsideA429Window(MENTIONS_ENDPOINT, accountId)).toEqual([]);

    // ticks every 20 s until well past the reset: mentions come back only after it
    for (let i = 0; i < 9; i++) {
      clock.advance(20_000);
      await h.tick();
    }
    expect(callsInsideA429Window(MENTIONS_ENDPOINT, accountId)).toEqual([]);
    expect(ids(await h.drainInbound())).toEqual([`x:tweet:${mention}`]);
  });

  it('blockEndpoint only moves a block later, and adds the health maps an old item lacks', async () => {
    const { channel } = await connectChannel(aws, sim, 'acme');
    const polls = createDynamoPollState({
      client: aws.clients.doc,
      tableName: aws.tableName,
      clock: clockOf(sim),
    });
    // an item written before the health maps existed
    await aws.clients.doc.send(
      new UpdateCommand({
        TableName: aws.tableName,
        Key: keys.channel(channel.id),
        UpdateExpression: 'REMOVE health',
      }),
    );
    await polls.blockEndpoint(channel.id, MENTIONS_ENDPOINT, '2026-09-01T12:10:00.000Z');
    await polls.blockEndpoint(channel.id, MENTIONS_ENDPOINT, '2026-09-01T12:05:00.000Z');
    expect((await store().get(channel.id))!.health.notBefore).toEqual({
      [MENTIONS_ENDPOINT]: '2026-09-01T12:10:00.000Z',
    });
    await polls.blockEndpoint(channel.id, MENTIONS_ENDPOINT, '2026-09-01T12:20:00.000Z');
    expect((await store().get(channel.id))!.health.notBefore[MENTIONS_ENDPOINT]).toBe(
      '2026-09-01T12:20:00.000Z',
    );
    // a deleted channel stays deleted
    await expect(polls.blockEndpoint('ch_gone', MENTIONS_ENDPOINT, '2026-09-01T12:20:00.000Z')).resolves.toBe(
      undefined,
    );
    expect(await store().get('ch_gone')).toBeNull();
  });
});
