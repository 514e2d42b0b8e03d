/** core/realtime/reconcile.ts over fakes: X's list against the channels, orphans, the app-wide cap. */
import { reconcileSubscriptions } from '../../../core/realtime/reconcile';
import { needsRepair, syncChannel, type RealtimeDeps } from '../../../core/realtime/subscriptions';
import { realtimeSettings } from '../../../lambdas/shared/realtime';
import {
  FakeChannelStore,
  FakeClock,
  FakeXActivity,
  fakeRealtimeStore,
  makeChannel,
} from '../../helpers/fakes';

const SCOPES = ['tweet.read', 'users.read', 'dm.read', 'offline.access'];

function world(limit?: number, tier: Parameters<typeof realtimeSettings>[0] = 'pay-per-use') {
  const clock = new FakeClock();
  const channels = new FakeChannelStore(clock);
  const x = new FakeXActivity();
  const deps: RealtimeDeps = {
    x,
    tokens: { getValidAccessToken: async () => 'user-token' },
    store: fakeRealtimeStore(channels),
    clock,
    settings: realtimeSettings(tier, limit),
    unsupported: new Set(),
  };
  const channel = async (id: string, account: string, extra = {}) => {
    const c = makeChannel({
      id,
      scopes: SCOPES,
      account: { id: account, username: id, name: id, avatarUrl: null },
      ...extra,
    });
    await channels.create(c);
    return c;
  };
  const all = async () => [...channels.items.values()];
  return { deps, x, channels, clock, channel, all };
}

describe('reconcileSubscriptions', () => {
  it('records a subscription X lost; the channel poll (needsRepair) re-creates it', async () => {
    const w = world();
    const c = await w.channel('ch_a', '11');
    await syncChannel(w.deps, c);
    const lost = [...w.x.subs.values()].find((s) => s.eventType === 'dm.received')!;
    w.x.subs.delete(lost.id);
    const report = await reconcileSubscriptions(w.deps, await w.all());
    expect(report).toMatchObject({ channels: 1, changed: 1, error: null });
    const after = (await w.channels.get('ch_a'))!;
    expect(after.realtime).toMatchObject({
      state: 'off',
      reasonCode: 'not_synced',
      mentions: true,
      dms: false,
    });
    expect(needsRepair(after, w.deps.settings, w.clock.now())).toBe(true);
    await syncChannel(w.deps, after);
    expect(w.x.typesOf('11')).toContain('dm.received');
    expect((await w.channels.get('ch_a'))!.realtime?.state).toBe('on');
  });

  it('deletes orphans of deleted channels and extras of paused ones; leaves others’ subscriptions', async () => {
    const w = world();
    const a = await w.channel('ch_a', '11');
    await syncChannel(w.deps, a);
    await w.x.create({
      accessToken: 't',
      eventType: 'dm.received',
      userId: '99',
      webhookId: 'hook-1',
      tag: 'xc:ch_gone',
    });
    await w.x.create({
      accessToken: 't',
      eventType: 'dm.received',
      userId: '98',
      webhookId: 'hook-1',
      tag: 'someone-else',
    });
    await w.channels.update('ch_a', 1, { status: 'paused' });
    const report = await reconcileSubscriptions(w.deps, await w.all());
    expect(report.deleted).toBe(1);
    expect(w.x.typesOf('11')).toEqual([]);
    expect(w.x.typesOf('98')).toEqual(['dm.received']);
    expect((await w.channels.get('ch_a'))!.realtime).toMatchObject({ state: 'off', reasonCode: 'paused' });
  });

  it('tracks the app-wide cap: channels beyond it fall back to polling with the reason, older ones first', async () => {
    const w = world(7);
    const first = await w.channel('ch_a', '11', { connectedAt: '2026-09-01T00:00:00.000Z' });
    await w.channel('ch_b', '12', { connectedAt: '2026-09-02T00:00:00.000Z' });
    await syncChannel(w.deps, first);
    const report = await reconcileSubscriptions(w.deps, await w.all());
    expect(report.overLimit).toBe(1);
    const b = (await w.channels.get('ch_b'))!;
    expect(b.realtime).toMatchObject({ state: 'off', reasonCode: 'subscription_limit' });
    expect(b.realtime?.reason).toMatch(/limit/);
    // room again (the first channel deleted): the next run lets the second one subscribe
    await w.channels.delete('ch_a');
    await reconcileSubscriptions(w.deps, await w.all());
    const again = (await w.channels.get('ch_b'))!;
    expect(again.realtime?.reasonCode).toBe('not_synced');
    expect(needsRepair(again, w.deps.settings, w.clock.now())).toBe(true);
    expect(w.x.subs.size).toBe(0);
  });

  it('a plan without the X Activity API records the reason and calls nothing at X', async () => {
    const w = world(undefined, 'pro');
    await w.channel('ch_a', '11');
    await reconcileSubscriptions(w.deps, await w.all());
    expect(w.x.calls).toEqual([]);
    expect((await w.channels.get('ch_a'))!.realtime).toMatchObject({ reasonCode: 'plan_without_xaa' });
  });

  it('an unreachable X is reported and changes nothing', async () => {
    const w = world();
    await w.channel('ch_a', '11');
    const { retryable } = await import('../../../core/errors');
    w.x.failAll = retryable('x_unavailable', 'down');
    const report = await reconcileSubscriptions(w.deps, await w.all());
    expect(report.error).toBe('x_unavailable');
    expect((await w.channels.get('ch_a'))!.realtime).toBeUndefined();
  });

  it('a refused creation is retried by polls only after the retry interval', async () => {
    const w = world();
    w.x.limit = 0;
    const c = await w.channel('ch_a', '11');
    await syncChannel(w.deps, c);
    const refused = (await w.channels.get('ch_a'))!;
    expect(refused.realtime?.reasonCode).toBe('subscription_limit');
    expect(needsRepair(refused, w.deps.settings, w.clock.now())).toBe(false);
    w.clock.advanceMs(15 * 60_000);
    expect(needsRepair(refused, w.deps.settings, w.clock.now())).toBe(true);
  });
});
