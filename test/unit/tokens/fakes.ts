/**
 * In-memory fakes of the sign-in ports, for unit tests of core. The clock and the channel store are
 * the shared ones in test/helpers/fakes/.
 */
import { ChannelError } from '../../../core/errors';
import type { OAuthStateRecord, OAuthStateStore, OAuthTokenSet, XOAuth } from '../../../core/oauth';
import type { Clock } from '../../../core/ports';

export { FakeChannelStore, FakeClock } from '../../helpers/fakes';
import type { LeaseStore, StoredTokens, TokenVault } from '../../../core/tokens';

/** Where the sign-in and token tests start their clock. */
export const TOKENS_T0 = '2026-09-01T12:00:00Z';

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
    async consume(s, browserBindingHash) {
      const r = data.get(s);
      if (!r) return null;
      // as the DynamoDB store's conditional delete: another browser's callback leaves the state
      if (r.browserBindingHash !== null && r.browserBindingHash !== browserBindingHash) {
        return { record: { ...r }, consumed: false };
      }
      data.delete(s);
      return { record: r, consumed: true };
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
