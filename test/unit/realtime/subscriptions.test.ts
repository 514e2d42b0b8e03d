/** core/realtime/subscriptions.ts over in-memory fakes: what a channel wants, sync, failures as reasons. */
import { permanent, retryable } from '../../../core/errors';
import {
  removeChannelSubscriptions,
  syncChannel,
  wantedFor,
  type RealtimeDeps,
} from '../../../core/realtime/subscriptions';
import { realtimeSettings } from '../../../lambdas/shared/realtime';
import {
  FakeChannelStore,
  FakeClock,
  FakeXActivity,
  fakeRealtimeStore,
  makeChannel,
  TEST_ACCOUNT,
} from '../../helpers/fakes';

const SCOPES = ['tweet.read', 'users.read', 'tweet.write', 'dm.read', 'dm.write', 'offline.access'];
const ALL = ['chat.received', 'dm.received', 'oauth.revoke', 'post.mention.create', 'post.reply.create'];

function world(tier: Parameters<typeof realtimeSettings>[0] = 'pay-per-use') {
  const clock = new FakeClock();
  const channels = new FakeChannelStore(clock);
  const x = new FakeXActivity();
  const store = fakeRealtimeStore(channels);
  const tokens = { getValidAccessToken: jest.fn(async () => 'user-token') };
  const deps: RealtimeDeps = {
    x,
    tokens,
    store,
    clock,
    settings: realtimeSettings(tier),
    unsupported: new Set(),
  };
  return { deps, x, store, channels, tokens };
}

describe('wantedFor', () => {
  it('wants mentions, DMs and the revoke event for an active channel with both switches on', () => {
    expect(wantedFor(makeChannel({ scopes: SCOPES })).types.sort()).toEqual(ALL);
  });
  it.each([
    [{ status: 'paused' as const }, 'paused'],
    [{ status: 'needs_reauth' as const }, 'needs_reauth'],
    [{ account: null, status: 'pending_auth' as const }, 'not_connected'],
    [{ listenMentions: false, listenDms: false }, 'switched_off'],
  ])('wants nothing for %o (%s)', (overrides, code) => {
    const w = wantedFor(makeChannel({ scopes: SCOPES, ...overrides }));
    expect(w.types).toEqual([]);
    expect(w.off?.code).toBe(code);
  });
  it('names the scope a switched-on stream lacks', () => {
    const w = wantedFor(makeChannel({ scopes: ['tweet.read', 'users.read'] }));
    expect(w.types).toEqual(['post.mention.create', 'post.reply.create', 'oauth.revoke']);
    expect(w.off).toEqual({ code: 'missing_scope', reason: expect.stringContaining('dm.read') });
  });
});

describe('syncChannel', () => {
  it('creates the missing subscriptions with the user token, tagged, and records real time on', async () => {
    const { deps, x, channels, tokens } = world();
    const channel = makeChannel({ scopes: SCOPES });
    await channels.create(channel);
    const r = await syncChannel(deps, channel);
    expect(r).toMatchObject({ state: 'on', reasonCode: null, mentions: true, dms: true });
    expect(x.typesOf(TEST_ACCOUNT.id)).toEqual(ALL);
    expect([...x.subs.values()].every((s) => s.tag === 'xc:ch1' && s.webhookId === 'hook-1')).toBe(true);
    expect(tokens.getValidAccessToken).toHaveBeenCalledWith('ch1');
    expect((await channels.get('ch1'))?.realtime?.subscriptions).toHaveLength(5);
  });

  it('deletes what a switch no longer wants and keeps the rest', async () => {
    const { deps, x, channels } = world();
    const on = makeChannel({ scopes: SCOPES });
    await channels.create(on);
    await syncChannel(deps, on);
    const off = { ...(await channels.get('ch1'))!, listenDms: false };
    const r = await syncChannel(deps, off);
    expect(x.typesOf(TEST_ACCOUNT.id)).toEqual(['oauth.revoke', 'post.mention.create', 'post.reply.create']);
    expect(r).toMatchObject({ state: 'on', mentions: true, dms: false });
  });

  it('a plan without the X Activity API calls nothing at X and says why', async () => {
    const { deps, x } = world('basic');
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }));
    expect(x.calls).toEqual([]);
    expect(r).toMatchObject({ state: 'off', reasonCode: 'plan_without_xaa', subscriptions: [] });
    expect(r.reason).toMatch(/basic/);
  });

  it('the app-wide limit leaves the channel on polling with the reason; what was made is kept', async () => {
    const { deps, x } = world();
    x.limit = 2;
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }));
    expect(r).toMatchObject({ state: 'off', reasonCode: 'subscription_limit', mentions: true, dms: false });
    expect(r.subscriptions).toHaveLength(2);
  });

  it('a reconciliation budget already at the limit creates nothing', async () => {
    const { deps, x } = world();
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }), {
      held: [],
      budget: { used: 1499, limit: 1500, reached: false },
    });
    expect(x.calls.filter((c) => c.startsWith('create'))).toEqual([]);
    expect(r.reasonCode).toBe('subscription_limit');
  });

  it('goes without oauth.revoke where X does not accept it, and does not ask again', async () => {
    const { deps, x } = world();
    x.unsupported.add('oauth.revoke');
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }));
    expect(r).toMatchObject({ state: 'on' });
    expect(deps.unsupported?.has('oauth.revoke')).toBe(true);
    x.calls = [];
    await syncChannel(deps, makeChannel({ scopes: SCOPES, realtime: r }));
    expect(x.calls).toEqual([]);
  });

  it('adopts a subscription X already holds (duplicate) instead of failing', async () => {
    const { deps, x } = world();
    await x.create({
      accessToken: 't',
      eventType: 'dm.received',
      userId: TEST_ACCOUNT.id,
      webhookId: 'hook-1',
      tag: 'xc:ch1',
    });
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }));
    expect(r.state).toBe('on');
    expect(x.subs.size).toBe(5);
  });

  it('never throws: an unreachable X or no webhook is the recorded reason', async () => {
    const { deps, x } = world();
    x.failAll = retryable('x_unavailable', 'X could not be reached');
    await expect(syncChannel(deps, makeChannel({ scopes: SCOPES }))).resolves.toMatchObject({
      state: 'off',
      reasonCode: 'x_error',
    });
    x.failAll = null;
    x.hook = null;
    await expect(syncChannel(deps, makeChannel({ scopes: SCOPES }))).resolves.toMatchObject({
      reasonCode: 'webhook_missing',
    });
    x.hook = 'hook-1';
    x.failAll = permanent('xaa_not_configured', 'no api key');
    await expect(syncChannel(deps, makeChannel({ scopes: SCOPES }))).resolves.toMatchObject({
      reasonCode: 'not_configured',
    });
  });

  it('a paused channel deletes everything it holds', async () => {
    const { deps, x, channels } = world();
    await channels.create(makeChannel({ scopes: SCOPES }));
    await syncChannel(deps, (await channels.get('ch1'))!);
    const r = await syncChannel(deps, { ...(await channels.get('ch1'))!, status: 'paused' });
    expect(x.subs.size).toBe(0);
    expect(r).toMatchObject({ state: 'off', reasonCode: 'paused', subscriptions: [] });
  });
});

describe('removeChannelSubscriptions', () => {
  it('deletes the recorded ones and any X lists under the channel tag', async () => {
    const { deps, x } = world();
    const r = await syncChannel(deps, makeChannel({ scopes: SCOPES }));
    await x.create({
      accessToken: 't',
      eventType: 'post.create',
      userId: '9',
      webhookId: 'hook-1',
      tag: 'xc:ch1',
    });
    await x.create({
      accessToken: 't',
      eventType: 'post.create',
      userId: '8',
      webhookId: 'hook-1',
      tag: 'other',
    });
    const out = await removeChannelSubscriptions(deps, makeChannel({ realtime: r }));
    expect(out).toEqual({ deleted: 6, failed: 0 });
    expect([...x.subs.values()].map((s) => s.tag)).toEqual(['other']);
  });
});
