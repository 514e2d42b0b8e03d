/** In-memory fakes of the sign-in ports, for unit tests of core. */
import type { Channel } from '../../../core/channel';
import { ChannelError, permanent, retryable } from '../../../core/errors';
import type { OAuthStateRecord, OAuthStateStore, OAuthTokenSet, XOAuth } from '../../../core/oauth';
import type { ChannelStore, Clock } from '../../../core/ports';
import type { LeaseStore, StoredTokens, TokenVault } from '../../../core/tokens';

export class FakeClock implements Clock {
  constructor(public t = Date.parse('2026-09-01T12:00:00Z')) {}
  now() {
    return new Date(this.t);
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export function fakeChannelStore(
  clock: Clock,
): ChannelStore & { items: Map<string, Channel>; claims: Map<string, string> } {
  const items = new Map<string, Channel>();
  const claims = new Map<string, string>();
  const clone = <T>(x: T): T => structuredClone(x);
  return {
    items,
    claims,
    async create(c) {
      if (items.has(c.id)) throw permanent('conflict', 'exists');
      items.set(c.id, clone(c));
    },
    async get(id) {
      const c = items.get(id);
      return c ? clone(c) : null;
    },
    async list({ limit }) {
      return { items: [...items.values()].slice(0, limit).map(clone) };
    },
    async update(id, expected, change) {
      const c = items.get(id);
      if (!c) throw permanent('channel_not_found', `channel ${id} does not exist`);
      if (c.version !== expected) throw retryable('conflict', 'stale');
      const { disabled, ...rest } = change;
      const next = { ...c, ...rest, version: c.version + 1, updatedAt: clock.now().toISOString() } as Channel;
      if (disabled)
        next.health = { ...next.health, disabled: { ...next.health.disabled, ...(disabled as object) } };
      items.set(id, clone(next));
      return clone(next);
    },
    async delete(id) {
      items.delete(id);
    },
    async claimAccount(x, ch) {
      const holder = claims.get(x);
      if (holder && holder !== ch)
        throw permanent('account_in_use', `this X account is already connected to channel ${holder}`);
      claims.set(x, ch);
    },
    async releaseAccount(x, ch) {
      if (claims.get(x) === ch) claims.delete(x);
    },
  };
}

export function fakeVault(): TokenVault & { data: Map<string, StoredTokens>; puts: number } {
  const data = new Map<string, StoredTokens>();
  const v = {
    data,
    puts: 0,
    async put(id: string, t: StoredTokens) {
      v.puts++;
      data.set(id, { ...t });
    },
    async get(id: string) {
      const t = data.get(id);
      return t ? { ...t } : null;
    },
    async delete(id: string) {
      data.delete(id);
    },
  };
  return v;
}

export function fakeLeases(clock: Clock): LeaseStore {
  const held = new Map<string, { owner: string; until: number }>();
  return {
    async acquire(ch, name, owner, ttl) {
      const k = `${ch}#${name}`;
      const cur = held.get(k);
      if (cur && cur.until >= clock.now().getTime()) return false;
      held.set(k, { owner, until: clock.now().getTime() + ttl });
      return true;
    },
    async release(ch, name, owner) {
      const k = `${ch}#${name}`;
      if (held.get(k)?.owner === owner) held.delete(k);
    },
  };
}

export function fakeStates(): OAuthStateStore & { data: Map<string, OAuthStateRecord> } {
  const data = new Map<string, OAuthStateRecord>();
  return {
    data,
    async put(r) {
      data.set(r.state, { ...r });
    },
    async consume(s) {
      const r = data.get(s);
      data.delete(s);
      return r ?? null;
    },
  };
}

/** A fake X OAuth server: rotating single-use refresh tokens, codes bound to a verifier. */
export function fakeXOAuth(options: { account?: { id: string; username: string } } = {}) {
  let n = 0;
  const live = new Set<string>();
  const spent: string[] = [];
  const presented: string[] = [];
  const revoked: string[] = [];
  const codes = new Map<string, string>();
  let failNext: ChannelError | null = null;
  const account = { id: '42', username: 'acme', name: 'Acme', avatarUrl: null, ...options.account };
  const issue = (scopes: string[]): OAuthTokenSet => {
    n++;
    const rt = `refresh-token-${n}-xxxxxxxx`;
    live.add(rt);
    return { accessToken: `access-token-${n}-xxxxxxxx`, refreshToken: rt, expiresInSeconds: 7200, scopes };
  };
  const port: XOAuth & Record<string, unknown> = {
    async authorizeUrl({ state, codeChallenge, scopes, redirectUri }) {
      const u = new URL('https://x.test/i/oauth2/authorize');
      u.searchParams.set('state', state);
      u.searchParams.set('code_challenge', codeChallenge);
      u.searchParams.set('scope', scopes.join(' '));
      u.searchParams.set('redirect_uri', redirectUri);
      return u.toString();
    },
    async exchangeCode({ code }) {
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      if (!codes.has(code)) throw new ChannelError('needs_reauth', 'bad code', { code: 'needs_reauth' });
      codes.delete(code);
      return issue(['tweet.read', 'users.read', 'tweet.write', 'dm.write', 'offline.access']);
    },
    async refresh(rt) {
      presented.push(rt);
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      if (!live.has(rt))
        throw new ChannelError('needs_reauth', 'X refused the refresh token', { code: 'needs_reauth' });
      live.delete(rt);
      spent.push(rt);
      await new Promise((r) => setTimeout(r, 5));
      return { ...issue([]) };
    },
    async revoke(token) {
      revoked.push(token);
      live.delete(token);
    },
    async me() {
      return { ...account };
    },
  };
  return {
    port,
    presented,
    revoked,
    spent,
    live,
    /** Makes `code` acceptable once. */
    grantCode(code: string) {
      codes.set(code, 'x');
    },
    failNextWith(e: ChannelError) {
      failNext = e;
    },
    /** Seeds a live refresh token as if issued earlier. */
    seed(): OAuthTokenSet {
      return issue(['tweet.read', 'users.read', 'offline.access']);
    },
  };
}
