/**
 * DESIGN.md "Rate limits and cost": never call again after a 429 before the reset. The randomized runs
 * found seed 20260905 calling `POST /2/tweets` inside a 429 window; this is the minimal deterministic
 * reproduction: one command meets a 429, a second command for the same channel arrives before the reset.
 */
import { startLocalAws, type LocalAws } from '../helpers/local-aws';
import { connectChannel, startSenderHarness } from '../integration/outbound/harness';
import { startTestSim } from '../integration/sim-x/helpers';
import type { SimX } from '../../sim/x/server';

let aws: LocalAws;
let sim: SimX;

beforeAll(async () => {
  aws = await startLocalAws();
  sim = await startTestSim();
});
afterAll(async () => {
  await sim.stop();
  await aws.stop();
});

it('rule "never call again after a 429 before the reset": a second reply for the same account waits for the reset', async () => {
  // Prepare
  const h = await startSenderHarness(aws, sim);
  const { channel, accountId } = await connectChannel(aws, sim, 'ratebrand');
  const customer = sim.createUser({ username: 'ratecust', name: 'Customer' }).id;
  const t1 = sim.createTweet({ authorId: customer, text: '@ratebrand one' });
  const t2 = sim.createTweet({ authorId: customer, text: '@ratebrand two' });
  sim.setFault({
    endpoint: 'POST /2/tweets',
    kind: 'status',
    status: 429,
    resetSeconds: 600,
    userId: accountId,
  });
  const reply = (key: string, targetId: string) => ({
    schema: 'x-channel.outbound.v1',
    idempotencyKey: key,
    channelId: channel.id,
    kind: 'reply',
    targetId,
    text: `answer ${key}`,
  });

  // Act: the first command meets the 429; the second (another conversation) comes in right after
  await h.send(reply('rl-1', t1.id));
  await h.drain();
  await h.send(reply('rl-2', t2.id));
  await h.drain();

  // Assess: no call to POST /2/tweets for this account between the 429 and its reset
  const log = sim.rateLimitLog().filter((e) => e.endpoint === 'POST /2/tweets' && e.userId === accountId);
  const at = log.findIndex((e) => e.status === 429);
  expect(at).toBeGreaterThanOrEqual(0);
  const resetMs = (log[at].reset ?? 0) * 1000;
  // the log is in call order; the simulated clock stands still here, so every later entry is before the reset
  const tooEarly = log.slice(at + 1).filter((e) => e.at < resetMs);
  expect(tooEarly).toEqual([]);
});
