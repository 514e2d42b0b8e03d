/**
 * The Basic plan over a simulated day (injected clock): the clock moves a minute at a time, the poller
 * plans within the windows (mentions 10/15 min, DMs 1/24 h), access tokens expire every 2 h and are
 * refreshed — and X never answers 429, while every mention and DM is delivered exactly once.
 */
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { startTestSim, testClock } from '../sim-x/helpers';
import type { SimX } from '../../../sim/x/server';
import { DM_EVENTS_ENDPOINT, MENTIONS_ENDPOINT } from '../../../core/inbound/planner';
import { pollChannel } from '../../../core/inbound/poll';
import { connectChannel, startInboundHarness } from './harness';

let aws: LocalAws;
let sim: SimX;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.stop();
  await sim?.stop();
});

it('Basic preset over a simulated day: zero 429s, everything delivered once', async () => {
  const clock = testClock();
  sim = await startTestSim({ clock, tier: 'basic' });
  const h = await startInboundHarness(aws, sim, { tier: 'basic' });
  const { channel, accountId } = await connectChannel(aws, sim, 'acme');
  const customer = sim.createUser({ username: 'carla', name: 'Carla' }).id;
  const expected: string[] = [];
  const start = sim.now();
  let nextDue = 0;
  let ticks = 0;
  const TICK_MS = 60_000;
  while (sim.now() - start < 24 * 3600_000) {
    // a mention every ~7 minutes and a DM every ~3 hours, created between ticks
    if (ticks % 7 === 3)
      expected.push(`x:tweet:${sim.createTweet({ authorId: customer, text: `@acme ${ticks}` }).id}`);
    if (ticks % 180 === 5) {
      expected.push(
        `x:dm:${sim.sendDm({ senderId: customer, recipientId: accountId, text: `dm ${ticks}` }).id}`,
      );
    }
    clock.advance(TICK_MS);
    ticks++;
    // a tick with nothing due is one DynamoDB query and changes nothing: run only the due ones
    if (sim.now() >= nextDue) {
      // the poller alone (its SQS and dispatcher paths are covered by the other files): a day is ~770 polls
      const outcome = await pollChannel(h.poller.deps, { channelId: channel.id, owner: `t${ticks}` });
      nextDue = Date.parse(outcome.nextPollAt!);
    }
  }
  // the last DMs can wait for the next daily window: one more day of ticks without new items
  while (sim.requests()[DM_EVENTS_ENDPOINT] < 2) {
    clock.advance(Math.max(TICK_MS, nextDue - sim.now()));
    const outcome = await pollChannel(h.poller.deps, { channelId: channel.id, owner: `t${ticks++}` });
    nextDue = Date.parse(outcome.nextPollAt!);
  }
  const delivered = (await h.drainInbound()).map((m) => m.id);
  const limited = sim.rateLimitLog().filter((e) => e.status === 429);
  expect(limited).toEqual([]);
  expect(new Set(delivered).size).toBe(delivered.length);
  expect(delivered.filter((id) => id.startsWith('x:tweet:')).sort()).toEqual(
    expected.filter((id) => id.startsWith('x:tweet:')).sort(),
  );
  // Basic allows one DM lookup a day: the first day's DMs arrive with the next daily read
  const dmCalls = sim.requests()[DM_EVENTS_ENDPOINT];
  expect(dmCalls).toBeLessThanOrEqual(3);
  expect(sim.requests()[MENTIONS_ENDPOINT]).toBeLessThanOrEqual((24 * 3600) / 90 + 10);
  // 2-hour access tokens: refreshed (refresh tokens presented and accepted) about 12 times in the day
  expect(sim.tokenLog().filter((e) => e.accepted && !e.alreadySpent).length).toBeGreaterThanOrEqual(10);
}, 240_000);
