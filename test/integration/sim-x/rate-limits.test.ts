/**
 * Rate limits and plans through twitter-api-v2: headers count down, the N+1st call in a window is a
 * 429 with a future reset, moving the injected clock past the reset restores access, and the
 * documented numbers (X-API.md §3) hold literally.
 */
import { ApiResponseError } from 'twitter-api-v2';
import { mapXError } from '../../../adapters/x/errors';
import { RATE_LIMITS, type Tier } from '../../../sim/x/limits';
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim } from './helpers';
import { wireViolations } from './helpers';

async function catchError(p: Promise<unknown>): Promise<ApiResponseError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof ApiResponseError)) throw new Error('expected an ApiResponseError');
  return e;
}

describe('sim-x rate limits and tiers', () => {
  let sim: SimX;
  let accountId: string;
  let customerId: string;
  beforeEach(async () => {
    sim = await startTestSim();
    accountId = sim.createUser({ username: 'acme_help', name: 'Acme Help' }).id;
    customerId = sim.createUser({ username: 'lucia', name: 'Lucía' }).id;
  });
  afterEach(async () => {
    await sim.stop();
    expect(wireViolations(sim)).toEqual([]);
  });

  it.each<[Tier, number]>([
    ['pay-per-use', 300],
    ['basic', 10],
  ])('%s: mentions allow %i calls per 15 min per user, then 429 until the reset', async (tier, limit) => {
    sim.setTier(tier);
    const { client } = await signIn(sim, 'acme_help');
    const first = await client.v2.userMentionTimeline(accountId);
    expect(first.rateLimit).toMatchObject({ limit, remaining: limit - 1 });
    const startReset = first.rateLimit.reset;
    expect(startReset * 1000).toBeGreaterThan(sim.now());
    for (let i = 1; i < limit; i++) await client.v2.userMentionTimeline(accountId);
    const refused = await catchError(client.v2.userMentionTimeline(accountId));
    expect(refused.code).toBe(429);
    expect(refused.rateLimitError).toBe(true);
    expect(refused.data).toEqual({
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    });
    expect(refused.rateLimit).toMatchObject({ limit, remaining: 0, reset: startReset });
    const mapped = mapXError(refused, 'read');
    expect(mapped).toMatchObject({ kind: 'retryable', code: 'rate_limited' });
    expect(mapped.notBefore?.getTime()).toBe(startReset * 1000);

    sim.advanceClock(startReset * 1000 - sim.now());
    const again = await client.v2.userMentionTimeline(accountId);
    expect(again.rateLimit.remaining).toBe(limit - 1);
    // the log proves what a reliability test checks: nothing came before the reset after the 429
    const log = sim.rateLimitLog().filter((e) => e.endpoint === 'GET /2/users/:id/mentions');
    const the429 = log.find((e) => e.status === 429);
    expect(the429?.reset).toBe(startReset);
    expect(log.filter((e) => e.at > (the429?.at ?? 0) && e.at < startReset * 1000)).toEqual([]);
  });

  it('dm_events: 15 per 15 min per user on pay-per-use; Basic DM send: 1 per 24 h', async () => {
    const { client } = await signIn(sim, 'acme_help');
    for (let i = 0; i < 15; i++) await client.v2.listDmEvents();
    expect((await catchError(client.v2.listDmEvents())).code).toBe(429);
    expect(RATE_LIMITS['pay-per-use']['GET /2/dm_events']).toEqual({
      windows: [{ scope: 'user', limit: 15, windowSeconds: 900 }],
    });

    sim.setTier('basic');
    await client.v2.sendDmToParticipant(customerId, { text: 'one' });
    const second = await catchError(client.v2.sendDmToParticipant(customerId, { text: 'two' }));
    expect(second.code).toBe(429);
    expect(second.rateLimit?.reset).toBe(Math.ceil((sim.now() + 86_400_000) / 1000));
  });

  it('DM sends share an app-wide 24 h cap across accounts and both send endpoints', async () => {
    sim.setTier('pay-per-use');
    const a = await signIn(sim, 'acme_help');
    const b = await signIn(sim, 'lucia');
    const send = RATE_LIMITS['pay-per-use']['POST /2/dm_conversations/with/:participant_id/messages'];
    expect(send).toEqual({
      windows: [
        { scope: 'user', limit: 15, windowSeconds: 900 },
        { scope: 'user', limit: 1440, windowSeconds: 86400, bucket: 'dm-send' },
        { scope: 'app', limit: 1440, windowSeconds: 86400, bucket: 'dm-send' },
      ],
    });
    // Raw calls to read the 24-hour headers, which twitter-api-v2 only exposes on paginators.
    const post = (token: string, path: string) =>
      fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `hello ${path}` }),
      });
    const r1 = await post(a.accessToken, `/2/dm_conversations/with/${customerId}/messages`);
    expect(r1.status).toBe(201);
    expect(r1.headers.get('x-app-limit-24hour-remaining')).toBe('1439');
    const conversation = ((await r1.json()) as { data: { dm_conversation_id: string } }).data
      .dm_conversation_id;
    const r2 = await post(b.accessToken, `/2/dm_conversations/with/${accountId}/messages`);
    expect(r2.headers.get('x-app-limit-24hour-remaining')).toBe('1438');
    expect(r2.headers.get('x-user-limit-24hour-remaining')).toBe('1439');
    const r3 = await post(a.accessToken, `/2/dm_conversations/${conversation}/messages`);
    expect(r3.status).toBe(201);
    expect(r3.headers.get('x-app-limit-24hour-remaining')).toBe('1437');
    expect(r3.headers.get('x-user-limit-24hour-remaining')).toBe('1438');
  });

  it('an endpoint outside the plan answers 403 client-forbidden, classified as access_level', async () => {
    sim.setTier('free');
    const { client } = await signIn(sim, 'acme_help');
    const e = await catchError(client.v2.listDmEvents());
    expect(e.code).toBe(403);
    expect(e.data).toMatchObject({
      title: 'Client Forbidden',
      reason: 'client-not-enrolled',
      type: 'https://api.x.com/2/problems/client-forbidden',
    });
    expect(mapXError(e, 'read')).toMatchObject({ kind: 'permanent', code: 'access_level' });
    const follow = await catchError(client.v2.follow(accountId, customerId));
    expect(follow.data).toMatchObject({ required_enrollment: 'Enterprise' });
  });

  it('unlimited never refuses and still sends the headers', async () => {
    sim.setTier('unlimited');
    const { client } = await signIn(sim, 'acme_help');
    for (let i = 0; i < 20; i++) await client.v2.listDmEvents();
    const page = await client.v2.listDmEvents();
    expect(page.rateLimit.remaining).toBeGreaterThan(1000);
  });
});
