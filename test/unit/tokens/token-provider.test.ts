import { ChannelError, permanent, retryable } from '../../../core/errors';
import { makeChannel } from '../../helpers/fakes';
import { createTokenProvider, toStoredTokens } from '../../../core/tokens';
import { FakeChannelStore, FakeClock, TOKENS_T0, fakeLeases, fakeVault, fakeXOAuth } from './fakes';

function setup(opts: { expiresInMs?: number } = {}) {
  const clock = new FakeClock(TOKENS_T0);
  const channels = new FakeChannelStore(clock);
  const vault = fakeVault();
  const leases = fakeLeases(clock);
  const x = fakeXOAuth();
  const at = clock.now().toISOString();
  const ch = makeChannel({
    id: 'ch_aaaaaaaaaaaaaaaaaaaa',
    account: { id: '42', username: 'acme', name: 'Acme', avatarUrl: null },
    scopes: ['tweet.read'],
    listenDms: false,
    createdAt: at,
    updatedAt: at,
    connectedAt: at,
  });
  channels.items.set(ch.id, ch);
  const seeded = x.seed();
  const stored = toStoredTokens(seeded, clock.now());
  stored.expiresAt = new Date(clock.now().getTime() + (opts.expiresInMs ?? 3_600_000)).toISOString();
  vault.data.set(ch.id, stored);
  const provider = createTokenProvider({
    vault,
    leases,
    oauth: x.port,
    channels,
    clock,
    sleep: () => new Promise((r) => setTimeout(r, 1)),
    waitMs: 1,
    maxWaits: 200,
  });
  /** Another container's provider over the same vault, leases and X (its own in-memory cache). */
  const otherContainer = () =>
    createTokenProvider({
      vault,
      leases,
      oauth: x.port,
      channels,
      clock,
      sleep: () => new Promise((r) => setTimeout(r, 1)),
      waitMs: 1,
      maxWaits: 200,
    });
  return { clock, channels, vault, x, provider, id: ch.id, seeded, otherContainer };
}

describe('createTokenProvider', () => {
  it('returns the stored token while it is valid long enough, without calling X', async () => {
    const { provider, id, x, seeded } = setup();
    await expect(provider.getValidAccessToken(id)).resolves.toBe(seeded.accessToken);
    expect(x.presented).toHaveLength(0);
  });

  it('refreshes a token that expires within minValiditySeconds and stores the new pair before returning it', async () => {
    const { provider, id, x, vault, seeded } = setup({ expiresInMs: 60_000 });
    const token = await provider.getValidAccessToken(id);
    expect(token).not.toBe(seeded.accessToken);
    expect(x.presented).toEqual([seeded.refreshToken]);
    expect(vault.data.get(id)!.accessToken).toBe(token);
    expect(vault.data.get(id)!.refreshToken).not.toBe(seeded.refreshToken);
    // the scopes X omitted on refresh are kept from before
    expect(vault.data.get(id)!.scopes).toEqual(['tweet.read', 'users.read', 'offline.access']);
  });

  it('20 concurrent callers for one expired channel cause exactly one refresh and all get the new token', async () => {
    const { provider, id, x } = setup({ expiresInMs: -1000 });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getValidAccessToken(id)));
    expect(x.presented).toHaveLength(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it('forceRefresh refreshes once even if the token looks valid; a second forced call after it reuses nothing stale', async () => {
    const { provider, id, x, seeded } = setup();
    const t1 = await provider.getValidAccessToken(id, { forceRefresh: true });
    expect(t1).not.toBe(seeded.accessToken);
    expect(x.presented).toEqual([seeded.refreshToken]);
  });

  it('never presents a rotated (old) refresh token again', async () => {
    const { provider, id, x, clock } = setup({ expiresInMs: -1 });
    await provider.getValidAccessToken(id);
    clock.advanceMs(7200_000);
    await provider.getValidAccessToken(id);
    expect(new Set(x.presented).size).toBe(x.presented.length);
    expect(x.presented).toHaveLength(2);
  });

  it('a refused refresh marks the channel needs_reauth, forgets the refresh token and throws needs_reauth', async () => {
    const { provider, id, x, channels, vault } = setup({ expiresInMs: -1 });
    x.live.clear(); // revoked at X
    const err = await provider.getValidAccessToken(id).catch((e) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err.kind).toBe('needs_reauth');
    expect(channels.items.get(id)!.status).toBe('needs_reauth');
    expect(channels.items.get(id)!.statusReason).toMatch(/refresh token/);
    expect(vault.data.get(id)!.refreshToken).toBeNull();
    // a later call does not present the dead token again
    const again = await provider.getValidAccessToken(id).catch((e) => e);
    expect(again.kind).toBe('needs_reauth');
    expect(x.presented).toHaveLength(1);
  });

  it.each([
    ['retryable outage', retryable('x_unavailable', 'X answered 503')],
    ['app config', permanent('app_config', 'X refused the app credentials')],
  ])('%s: tokens untouched, channel unchanged, error passed on', async (_name, error) => {
    const { provider, id, x, channels, vault } = setup({ expiresInMs: -1 });
    const before = { ...vault.data.get(id)! };
    x.failNextWith(error);
    const err = await provider.getValidAccessToken(id).catch((e) => e);
    expect(err.code).toBe(error.code);
    expect(err.kind).toBe(error.kind);
    expect(vault.data.get(id)).toEqual(before);
    expect(channels.items.get(id)!.status).toBe('active');
  });

  it('a channel without tokens is needs_reauth', async () => {
    const { provider, vault, id } = setup();
    vault.data.delete(id);
    await expect(provider.getValidAccessToken(id)).rejects.toMatchObject({ kind: 'needs_reauth' });
  });

  it('gives up with a retryable error when the lease stays taken and nobody refreshes', async () => {
    const clock = new FakeClock(TOKENS_T0);
    const { vault, x, channels, id } = setup({ expiresInMs: -1 });
    const provider = createTokenProvider({
      vault,
      leases: { acquire: async () => false, release: async () => {} },
      oauth: x.port,
      channels,
      clock,
      sleep: async () => {},
      maxWaits: 3,
    });
    await expect(provider.getValidAccessToken(id)).rejects.toMatchObject({
      kind: 'retryable',
      code: 'token_refresh_busy',
    });
    expect(x.presented).toHaveLength(0);
  });

  describe('in-memory cache (one provider per container)', () => {
    it('reads the vault once while the token stays valid beyond the margin', async () => {
      // Prepare
      const { provider, id, vault, seeded, clock } = setup({ expiresInMs: 3_600_000 });
      const reads = jest.spyOn(vault, 'get');
      // Act
      const tokens = [];
      for (let i = 0; i < 5; i++) {
        tokens.push(await provider.getValidAccessToken(id));
        clock.advanceMs(60_000);
      }
      // Assess
      expect(tokens).toEqual(Array(5).fill(seeded.accessToken));
      expect(reads).toHaveBeenCalledTimes(1);
    });

    it('once the cached token is within the validity margin of expiry, reads the vault again and refreshes', async () => {
      const { provider, id, vault, x, seeded, clock } = setup({ expiresInMs: 600_000 });
      const reads = jest.spyOn(vault, 'get');
      await provider.getValidAccessToken(id);
      clock.advanceMs(600_000 - 100_000); // 100 s left, below the 120 s margin
      const token = await provider.getValidAccessToken(id);
      expect(token).not.toBe(seeded.accessToken);
      expect(x.presented).toEqual([seeded.refreshToken]);
      expect(reads.mock.calls.length).toBeGreaterThanOrEqual(2);
    });

    it('a refresh made by this provider replaces the cached token (served without another vault read)', async () => {
      const { provider, id, vault } = setup();
      const refreshed = await provider.getValidAccessToken(id, { forceRefresh: true });
      const reads = jest.spyOn(vault, 'get');
      await expect(provider.getValidAccessToken(id)).resolves.toBe(refreshed);
      expect(reads).not.toHaveBeenCalled();
      expect(vault.data.get(id)!.accessToken).toBe(refreshed);
    });

    it('forceRefresh after another container refreshed: uses the stored token, no refresh at X', async () => {
      // Prepare: this container cached T1; another container refreshed to T2 (T1's refresh token is spent)
      const { provider, id, x, seeded, otherContainer, vault } = setup();
      await expect(provider.getValidAccessToken(id)).resolves.toBe(seeded.accessToken);
      const t2 = await otherContainer().getValidAccessToken(id, { forceRefresh: true });
      expect(x.presented).toHaveLength(1);
      // the cache still serves T1 until X refuses it…
      await expect(provider.getValidAccessToken(id)).resolves.toBe(seeded.accessToken);
      // Act: …then X answers 401 and the caller forces a refresh
      const token = await provider.getValidAccessToken(id, { forceRefresh: true });
      // Assess
      expect(token).toBe(t2);
      expect(x.presented).toHaveLength(1);
      expect(vault.data.get(id)!.accessToken).toBe(t2);
      expect(new Set(x.presented).size).toBe(x.presented.length);
    });

    it('forceRefresh when the stored token is the same stale one: refreshes once under the lease', async () => {
      const { provider, id, x, seeded, vault } = setup();
      await provider.getValidAccessToken(id);
      const token = await provider.getValidAccessToken(id, { forceRefresh: true });
      expect(token).not.toBe(seeded.accessToken);
      expect(x.presented).toEqual([seeded.refreshToken]);
      expect(vault.data.get(id)!.accessToken).toBe(token);
    });

    it('a refused refresh empties the cache: the next call re-reads the vault, and no refresh token is presented twice', async () => {
      const { provider, id, x, vault } = setup();
      await provider.getValidAccessToken(id);
      x.live.clear(); // revoked at X
      await expect(provider.getValidAccessToken(id, { forceRefresh: true })).rejects.toMatchObject({
        kind: 'needs_reauth',
      });
      const reads = jest.spyOn(vault, 'get');
      await provider.getValidAccessToken(id).catch(() => undefined);
      expect(reads).toHaveBeenCalledTimes(1);
      await expect(provider.getValidAccessToken(id, { forceRefresh: true })).rejects.toMatchObject({
        kind: 'needs_reauth',
      });
      expect(x.presented).toHaveLength(1);
    });
  });
});
