/**
 * Access tokens for connected channels, refreshed under a lease.
 *
 * X's refresh tokens rotate and are single-use (X-API.md §1): two pollers refreshing the same
 * token at once would kill the grant. So a refresh happens only while holding a per-channel lease
 * (a conditional write), after re-reading the vault (another holder may have refreshed already),
 * and the new pair is stored BEFORE anyone uses it. Timeline of two callers A and B:
 *
 *   A: read vault (stale) → acquire lease ✓ → re-read (still stale) → refresh at X → put → release
 *   B: read vault (stale) → acquire lease ✗ → sleep (jitter) → re-read: fresh token from A → return
 *
 * Cache: each provider (one per container) keeps the access token it last read or stored, per channel,
 * in memory until it is within the validity margin of its expiry, so a warm poller reads Secrets
 * Manager about once per token lifetime instead of once per poll (the vault stays the only code that
 * reads or writes secrets; the cache only holds what the vault returned). Another container may
 * refresh meanwhile, which X answers with a 401 for our cached token; the caller then asks with
 * `forceRefresh`, which re-reads the vault first:
 *
 *   cached T1 → X 401 → forceRefresh → vault has T2 ≠ T1 (refreshed elsewhere) → use T2, no refresh
 *   cached T1 → X 401 → forceRefresh → vault has T1 (same stale token) → refresh under the lease
 *
 * The refresh token is never cached (only the vault hands it to the refresh), and nothing here logs.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelStore, Clock, TokenProvider } from './ports';
import { systemClock } from './ports';
import { isChannelError, needsReauth, retryable } from './errors';
import type { OAuthTokenSet, XOAuth } from './oauth';

/** What the vault keeps per channel (a Secrets Manager secret in AWS). */
export interface StoredTokens {
  accessToken: string;
  /** Null once X refused it, so that a spent token is never presented again. */
  refreshToken: string | null;
  /** ISO time the access token expires. */
  expiresAt: string;
  scopes: string[];
  updatedAt: string;
}

/**
 * Per-channel token storage: the only holder of tokens.
 * @example
 * await vault.put('ch_…', { accessToken, refreshToken, expiresAt, scopes, updatedAt });
 */
export interface TokenVault {
  put(channelId: string, tokens: StoredTokens): Promise<void>;
  get(channelId: string): Promise<StoredTokens | null>;
  /** Idempotent. */
  delete(channelId: string): Promise<void>;
}

/**
 * Short exclusive leases (conditional writes with an expiry, so a crashed holder blocks no one for long).
 * @example
 * if (await leases.acquire('ch_…', 'refresh', owner, 30_000)) try { … } finally { await leases.release('ch_…', 'refresh', owner) }
 */
export interface LeaseStore {
  acquire(channelId: string, name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases only if `owner` still holds it. */
  release(channelId: string, name: string, owner: string): Promise<void>;
}

export interface TokenProviderOptions {
  vault: TokenVault;
  leases: LeaseStore;
  oauth: Pick<XOAuth, 'refresh'>;
  channels: ChannelStore;
  clock?: Clock;
  /** Lease lifetime; must outlast one refresh call at X (default 30 s). */
  leaseMs?: number;
  /** Default minimum remaining validity of a returned token (default 120 s). */
  minValiditySeconds?: number;
  /** How many times a caller that lost the lease sleeps and re-reads before giving up (default 40). */
  maxWaits?: number;
  /** Base wait between re-reads; each wait is base..2×base (default 50 ms). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each refresh outcome (for logs/metrics); never given token values. */
  onRefresh?: (event: {
    channelId: string;
    outcome: 'refreshed' | 'reused' | 'refused' | 'failed';
    code?: string;
  }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the in-memory cache keeps: never the refresh token. */
interface CachedToken {
  accessToken: string;
  expiresAt: string;
}

export const REFRESH_LEASE = 'refresh';

/** Converts X's answer to what the vault stores. X may omit `scope` on refresh: then keep the old ones. */
export function toStoredTokens(set: OAuthTokenSet, now: Date, previousScopes: string[] = []): StoredTokens {
  return {
    accessToken: set.accessToken,
    refreshToken: set.refreshToken,
    expiresAt: new Date(now.getTime() + set.expiresInSeconds * 1000).toISOString(),
    scopes: set.scopes.length ? set.scopes : previousScopes,
    updatedAt: now.toISOString(),
  };
}

/**
 * Marks a channel `needs_reauth` with a reason, conditional on its version (retried on a lost race).
 * A missing channel is ignored: it was deleted meanwhile.
 */
export async function markNeedsReauth(
  channels: ChannelStore,
  channelId: string,
  reason: string,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const channel = await channels.get(channelId);
    if (!channel || (channel.status === 'needs_reauth' && channel.statusReason === reason)) return;
    try {
      await channels.update(channelId, channel.version, { status: 'needs_reauth', statusReason: reason });
      return;
    } catch (e) {
      if (isChannelError(e) && e.code === 'conflict') continue;
      if (isChannelError(e) && e.code === 'channel_not_found') return;
      throw e;
    }
  }
}

/** Builds the `TokenProvider` port over a vault, a lease store and X's refresh endpoint. */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const {
    vault,
    leases,
    oauth,
    channels,
    clock = systemClock,
    leaseMs = 30_000,
    minValiditySeconds: defaultMin = 120,
    maxWaits = 40,
    waitMs = 50,
    sleep = defaultSleep,
    onRefresh,
  } = options;

  const validFor = (t: Pick<StoredTokens, 'expiresAt'>, seconds: number) =>
    Date.parse(t.expiresAt) - clock.now().getTime() >= seconds * 1000;

  /** Per channel: the access token this container last read or stored, and its expiry. */
  const cache = new Map<string, CachedToken>();
  const remember = (channelId: string, t: StoredTokens): string => {
    cache.set(channelId, { accessToken: t.accessToken, expiresAt: t.expiresAt });
    return t.accessToken;
  };

  async function load(channelId: string): Promise<StoredTokens> {
    const t = await vault.get(channelId);
    if (!t) throw needsReauth('this channel has no X tokens: sign in with X');
    return t;
  }

  /** Runs under the lease. Returns the usable token, refreshing only if nobody did meanwhile. */
  async function refreshHeld(channelId: string, staleAccess: string, min: number): Promise<string> {
    const current = await load(channelId);
    if (current.accessToken !== staleAccess && validFor(current, min)) {
      onRefresh?.({ channelId, outcome: 'reused' });
      return remember(channelId, current);
    }
    if (!current.refreshToken) {
      throw needsReauth('X refused the refresh token earlier: sign in with X again');
    }
    let next: OAuthTokenSet;
    try {
      next = await oauth.refresh(current.refreshToken);
    } catch (e) {
      const err = isChannelError(e) ? e : retryable('x_unavailable', 'token refresh failed', undefined, e);
      if (err.kind === 'needs_reauth') {
        // The refresh token is dead at X: forget it so it is never presented again, then tell the admin.
        await vault.put(channelId, { ...current, refreshToken: null, updatedAt: clock.now().toISOString() });
        await markNeedsReauth(
          channels,
          channelId,
          'X refused the refresh token (revoked, expired or already used): sign in with X again',
        );
        onRefresh?.({ channelId, outcome: 'refused', code: err.code });
      } else {
        onRefresh?.({ channelId, outcome: 'failed', code: err.code });
      }
      throw err;
    }
    const stored = toStoredTokens(next, clock.now(), current.scopes);
    // Stored before use: the old refresh token is already spent at X, so losing this pair would lose the grant.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await vault.put(channelId, stored);
        onRefresh?.({ channelId, outcome: 'refreshed' });
        return remember(channelId, stored);
      } catch (e) {
        lastError = e;
      }
    }
    throw retryable('token_store_failed', 'could not store the refreshed X tokens', undefined, lastError);
  }

  return {
    async getValidAccessToken(channelId, opts = {}) {
      const min = opts.minValiditySeconds ?? defaultMin;
      const cached = cache.get(channelId);
      if (!opts.forceRefresh && cached && validFor(cached, min)) return cached.accessToken;
      // from here on the cached token is not handed out again: expired, or refused by X (forceRefresh)
      cache.delete(channelId);
      const first = await load(channelId);
      if (!opts.forceRefresh && validFor(first, min)) return remember(channelId, first);
      if (opts.forceRefresh && cached && first.accessToken !== cached.accessToken && validFor(first, min)) {
        // X refused our cached token because another container refreshed meanwhile: use the stored one
        onRefresh?.({ channelId, outcome: 'reused' });
        return remember(channelId, first);
      }
      const staleAccess = first.accessToken;

      for (let attempt = 0; attempt <= maxWaits; attempt++) {
        const owner = randomBytes(12).toString('hex');
        if (await leases.acquire(channelId, REFRESH_LEASE, owner, leaseMs)) {
          try {
            return await refreshHeld(channelId, staleAccess, min);
          } finally {
            await leases.release(channelId, REFRESH_LEASE, owner).catch(() => {
              // the lease expires by itself; a failed release only delays the next refresh
            });
          }
        }
        await sleep(waitMs + Math.floor(Math.random() * waitMs));
        const current = await load(channelId);
        if (current.accessToken !== staleAccess && validFor(current, min))
          return remember(channelId, current);
        if (!current.refreshToken) throw needsReauth('X refused the refresh token: sign in with X again');
      }
      throw retryable(
        'token_refresh_busy',
        'another worker is refreshing this channel’s X token; try again shortly',
      );
    },
  };
}
