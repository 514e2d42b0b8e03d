/** core/realtime/reauth-stop.ts over in-memory fakes: needs_reauth stops the subscriptions at once. */
import { permanent } from '../../../core/errors';
import { markNeedsReauth } from '../../../core/tokens';
import { stoppingRealtimeOnReauth } from '../../../core/realtime/reauth-stop';
import { syncChannel, type RealtimeDeps } from '../../../core/realtime/subscriptions';
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

async function subscribedWorld() {
  const clock = new FakeClock();
  const channels = new FakeChannelStore(clock);
  const x = new FakeXActivity();
  const warnings: string[] = [];
  const deps: RealtimeDeps = {
    x,
    // the user token is dead by now: only the app's bearer (the port's `delete`) may be used
    tokens: { getValidAccessToken: jest.fn(async () => Promise.reject(new Error('no user token'))) },
    store: fakeRealtimeStore(channels),
    clock,
    settings: realtimeSettings('pay-per-use'),
    unsupported: new Set(),
  };
  await channels.create(makeChannel({ scopes: SCOPES }));
  await syncChannel(
    { ...deps, tokens: { getValidAccessToken: async () => 'user-token' } },
    (await channels.get('ch1'))!,
  );
  expect(x.subs.size).toBe(5);
  const store = stoppingRealtimeOnReauth(channels, deps, { warn: (m) => warnings.push(m) });
  return { channels, x, deps, store, warnings };
}

describe('stoppingRealtimeOnReauth', () => {
  it('deletes every subscription (app bearer, no user token) when a write marks the channel needs_reauth', async () => {
    const { store, x, channels, deps } = await subscribedWorld();
    await markNeedsReauth(store, 'ch1', 'X refused the refresh token');
    expect(x.typesOf(TEST_ACCOUNT.id)).toEqual([]);
    expect(deps.tokens.getValidAccessToken).not.toHaveBeenCalled();
    const stored = await channels.get('ch1');
    expect(stored).toMatchObject({ status: 'needs_reauth' });
    expect(stored?.realtime).toMatchObject({ state: 'off', reasonCode: 'needs_reauth', subscriptions: [] });
  });

  it('leaves subscriptions alone for any other change, and answers what the store answers', async () => {
    const { store, x, channels } = await subscribedWorld();
    const before = await channels.get('ch1');
    const updated = await store.update('ch1', before!.version, { name: 'Support' });
    expect(updated).toEqual(await channels.get('ch1'));
    expect(x.subs.size).toBe(5);
  });

  it('never fails the update when X refuses the deletes: the record keeps them for the next sync or reconciliation', async () => {
    const { store, x, channels, warnings } = await subscribedWorld();
    x.failAll = permanent('x_unavailable', 'X is down');
    await markNeedsReauth(store, 'ch1', 'revoked');
    expect((await channels.get('ch1'))?.status).toBe('needs_reauth');
    expect(x.subs.size).toBe(5);
    // syncChannel itself never throws: the refusal is on the record, still holding them for the next try
    expect((await channels.get('ch1'))?.realtime?.subscriptions).toHaveLength(5);
    expect(warnings).toEqual([]);
  });
});
