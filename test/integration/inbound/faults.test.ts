/**
 * Crashes, rate limits and plan refusals through the real handlers, stand-ins and simulated X.
 */
import type { LocalAws } from '../../helpers/local-aws';
import type { SimX } from '../../../sim/x/server';
import type { InboundMessage } from '../../../contracts';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { retryable } from '../../../core/errors';
import { DM_EVENTS_ENDPOINT, MENTIONS_ENDPOINT } from '../../../core/inbound/planner';
import { clockOf, connectChannel, startInboundHarness, useInboundWorld, type InboundWorld } from './harness';

const world = useInboundWorld();
let aws: LocalAws;
let sim: SimX;
let clock: InboundWorld['clock'];
beforeEach(() => ({ aws, sim, clock } = world));

const ids = (ms: InboundMessage[]) => ms.map((m) => m.id).sort();
const store = () =>
  createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName, clock: clockOf(sim) });

async function seed(accountId: string, mentions: number, dms: number) {
  const customer = sim.createUser({ username: `c${Math.floor(Math.random() * 1e6)}`, name: 'Customer' }).id;
  const expected: string[] = [];
  for (let i = 0; i < mentions; i++) {
    clock.advance(1000);
    expected.push(`x:tweet:${sim.createTweet({ authorId: customer, text: `@acme ${i}` }).id}`);
  }
  for (let i = 0; i < dms; i++) {
    clock.advance(1000);
    expected.push(`x:dm:${sim.sendDm({ senderId: customer, recipientId: accountId, text: `dm ${i}` }).id}`);
  }
  return { customer, expected: expected.sort() };
}

describe('inbound under faults', () => {
  it('crash after some inbound batches were sent, before the checkpoint → after redelivery every item exactly once', async () => {
    let crashes = 1;
    const h = await startInboundHarness(aws, sim, {
      overrides: {
        wrapPublisher: (real) => ({
          async publish(messages) {
            if (crashes > 0 && messages.length > 10) {
              crashes--;
              await real.publish(messages.slice(0, 10)); // one batch made it
              throw retryable('internal', 'injected crash after the first batch');
            }
            await real.publish(messages);
          },
        }),
      },
    });
    const { accountId } = await connectChannel(aws, sim, 'acme');
    const { expected } = await seed(accountId, 25, 12);
    await h.tick();
    expect(h.failedJobs).toBe(1);
    await h.redeliver();
    expect(h.failedJobs).toBe(0);
    expect(ids(await h.drainInbound())).toEqual(expected);
  });

  it('crash between the final write and the job ack → the redelivered job is refused by its claim, X not asked', async () => {
    const h = await startInboundHarness(aws, sim);
    const state = h.poller.deps.state;
    let crashes = 1;
    h.poller.deps.state = {
      ...state,
      finishPoll: async (...args) => {
        await state.finishPoll(...args);
        if (crashes-- > 0) throw retryable('internal', 'injected crash after the checkpoint write');
      },
    };
    const { accountId } = await connectChannel(aws, sim, 'acme');
    const { expected } = await seed(accountId, 8, 5);
    await h.tick();
    expect(h.failedJobs).toBe(1);
    const readsBefore = sim.requests()[MENTIONS_ENDPOINT];
    await h.redeliver();
    expect(ids(await h.drainInbound())).toEqual(expected);
    // the final write moved the due time: the redelivered job's claim is refused and X is not asked
    expect(sim.requests()[MENTIONS_ENDPOINT]).toBe(readsBefore);
  });

  it('after an injected 429 the next call to that endpoint comes after its reset', async () => {
    const h = await startInboundHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'acme');
    await seed(accountId, 2, 2);
    sim.setFault({ endpoint: MENTIONS_ENDPOINT, kind: 'status', status: 429, resetSeconds: 600 });
    await h.tick();
    const first = await h.drainInbound();
    expect(first.every((m) => m.kind === 'dm')).toBe(true);
    const limited = sim.rateLimitLog().find((e) => e.endpoint === MENTIONS_ENDPOINT && e.status === 429)!;
    expect(limited).toBeDefined();
    const stored = await store().get(channel.id);
    expect(stored!.health.lastError).toMatchObject({ code: 'rate_limited' });
    // ticks every minute for 15 minutes
    for (let m = 0; m < 15; m++) {
      clock.advance(60_000);
      await h.tick();
    }
    const calls = sim.rateLimitLog().filter((e) => e.endpoint === MENTIONS_ENDPOINT);
    const after = calls.filter((e) => e.at > limited.at);
    expect(after.length).toBeGreaterThan(0);
    for (const c of after) expect(c.at).toBeGreaterThanOrEqual(limited.reset! * 1000);
    expect((await h.drainInbound()).filter((m) => m.kind === 'mention')).toHaveLength(2);
  });

  it('403 for DMs (plan without DMs) → degraded with the reason; mentions still delivered', async () => {
    sim.setTier('free');
    const h = await startInboundHarness(aws, sim, { tier: 'pay-per-use' });
    const { channel, accountId } = await connectChannel(aws, sim, 'acme');
    await seed(accountId, 1, 2);
    await h.tick();
    const delivered = await h.drainInbound();
    expect(delivered.map((m) => m.kind)).toEqual(['mention']);
    const stored = (await store().get(channel.id))!;
    expect(stored.status).toBe('degraded');
    expect(stored.health.disabled.dms).toMatch(/plan/);
    expect(Date.parse(stored.health.notBefore[DM_EVENTS_ENDPOINT])).toBeGreaterThanOrEqual(
      sim.now() + 23 * 3600_000,
    );
    // DMs are not retried in a loop
    const dmCalls = sim.requests()[DM_EVENTS_ENDPOINT];
    for (let m = 0; m < 20; m++) {
      clock.advance(60_000);
      await h.tick();
    }
    expect(sim.requests()[DM_EVENTS_ENDPOINT]).toBe(dmCalls);
  });

  it('auto-follow: the first 403 (Enterprise-only) turns the feature off; delivery goes on', async () => {
    const h = await startInboundHarness(aws, sim);
    const { channel, accountId } = await connectChannel(aws, sim, 'acme', { autoFollow: true });
    const { expected } = await seed(accountId, 3, 0);
    await h.tick();
    expect(ids(await h.drainInbound())).toEqual(expected);
    const stored = (await store().get(channel.id))!;
    expect(stored.health.disabled.autoFollow).toMatch(/Enterprise/);
    await seed(accountId, 2, 0);
    clock.advance(120_000);
    await h.tick();
    expect(sim.requests()['POST /2/users/:id/following']).toBe(1);
  });

  it('auto-follow on Enterprise follows each mention author once', async () => {
    sim.setTier('enterprise');
    const h = await startInboundHarness(aws, sim, { tier: 'enterprise' });
    const { accountId } = await connectChannel(aws, sim, 'acme', { autoFollow: true });
    const { customer } = await seed(accountId, 3, 0);
    await h.tick();
    await seed(accountId, 1, 0);
    clock.advance(120_000);
    await h.tick();
    const res = await fetch(`${sim.url}/_sim/follows?userId=${accountId}`);
    const follows = ((await res.json()) as { data: string[] }).data;
    expect(follows).toContain(customer);
    expect(sim.requests()['POST /2/users/:id/following']).toBe(2);
  });
});
