/**
 * core/revocations.ts with in-memory fakes of its ports: the backoff, which records a tick tries, and what
 * a success, a failure and the time limit leave behind.
 */
import { permanent, retryable } from '../../../core/errors';
import {
  nextAttemptDelayMs,
  REVOCATION_BACKOFF,
  retryDueRevocations,
  type PendingRevocation,
  type RevocationStore,
} from '../../../core/revocations';
import type { StoredTokens, TokenVault } from '../../../core/tokens';

const MIN = 60_000;

function world(now: number) {
  const records = new Map<string, PendingRevocation>();
  const grants = new Map<string, StoredTokens>();
  const revoked: string[] = [];
  let failWith: Error | null = null;
  const store: RevocationStore = {
    async put(r) {
      records.set(r.id, r);
    },
    async recordAttempt(r) {
      if (!records.has(r.id)) return false;
      records.set(r.id, r);
      return true;
    },
    async get(id) {
      return records.get(id) ?? null;
    },
    async list() {
      return [...records.values()].sort((a, b) => a.deletedAt.localeCompare(b.deletedAt));
    },
    async delete(id) {
      records.delete(id);
    },
  };
  const vault: TokenVault = {
    async put(id, t) {
      grants.set(id, t);
    },
    async get(id) {
      return grants.get(id) ?? null;
    },
    async delete(id) {
      grants.delete(id);
    },
  };
  const clock = { now: () => new Date(now) };
  const deps = {
    revocations: store,
    vault,
    clock,
    oauth: {
      async revoke(token: string) {
        if (failWith) throw failWith;
        revoked.push(token);
      },
    },
  };
  const add = (id: string, nextAttemptAt: number, tokens = true) => {
    const at = new Date(nextAttemptAt - 5 * MIN).toISOString();
    records.set(id, {
      id,
      kind: 'deleted',
      channelId: id,
      name: null,
      account: null,
      deletedAt: at,
      attempts: 1,
      lastAttemptAt: at,
      lastError: 'x_unavailable',
      nextAttemptAt: new Date(nextAttemptAt).toISOString(),
    });
    if (tokens)
      grants.set(id, {
        accessToken: `a-${id}`,
        refreshToken: `r-${id}`,
        expiresAt: at,
        scopes: [],
        updatedAt: at,
      });
  };
  return {
    deps,
    records,
    grants,
    revoked,
    add,
    fail: (e: Error | null) => (failWith = e),
    advance: (ms: number) => (now += ms),
  };
}

describe('revocation backoff', () => {
  it.each([
    [1, 5 * MIN],
    [2, 10 * MIN],
    [3, 20 * MIN],
    [4, 40 * MIN],
    [5, 60 * MIN],
    [50, 60 * MIN],
    [0, 5 * MIN],
  ])('after %i failed attempts the next is %i ms later', (attempts, ms) => {
    expect(nextAttemptDelayMs(attempts)).toBe(ms);
  });
});

describe('retryDueRevocations', () => {
  const T = Date.UTC(2026, 0, 1);

  it('tries only the due ones, oldest first; success deletes grant and record', async () => {
    const w = world(T);
    w.add('ch_due', T - MIN);
    w.add('ch_later', T + MIN);
    const report = await retryDueRevocations(w.deps);
    expect(report).toEqual({ pending: 2, due: 1, revoked: ['ch_due'], failed: [], deferred: 0 });
    expect(w.revoked).toEqual(['r-ch_due', 'a-ch_due']);
    expect([...w.records.keys()]).toEqual(['ch_later']);
    expect(w.grants.has('ch_due')).toBe(false);
  });

  it('a failure counts the attempt, keeps the grant and backs the next one off; any error kind', async () => {
    const w = world(T);
    w.add('ch_a', T);
    w.add('ch_b', T);
    w.fail(retryable('x_unavailable', 'X is down'));
    expect((await retryDueRevocations(w.deps)).failed).toEqual([
      { id: 'ch_a', code: 'x_unavailable', attempts: 2 },
      { id: 'ch_b', code: 'x_unavailable', attempts: 2 },
    ]);
    expect(w.records.get('ch_a')).toMatchObject({
      attempts: 2,
      lastAttemptAt: new Date(T).toISOString(),
      nextAttemptAt: new Date(T + 2 * REVOCATION_BACKOFF.baseMs).toISOString(),
    });
    expect(w.grants.has('ch_a')).toBe(true);
    w.fail(permanent('app_config', 'X refused the app'));
    w.advance(2 * REVOCATION_BACKOFF.baseMs);
    expect((await retryDueRevocations(w.deps)).failed.map((f) => f.code)).toEqual([
      'app_config',
      'app_config',
    ]);
    w.fail(new Error('boom'));
    w.advance(4 * REVOCATION_BACKOFF.baseMs);
    expect((await retryDueRevocations(w.deps)).failed[0]).toEqual({
      id: 'ch_a',
      code: 'internal',
      attempts: 4,
    });
  });

  it('a record whose grant is already gone is resolved without calling X', async () => {
    const w = world(T);
    w.add('ch_nogrant', T, false);
    expect((await retryDueRevocations(w.deps)).revoked).toEqual(['ch_nogrant']);
    expect(w.revoked).toEqual([]);
    expect(w.records.size).toBe(0);
  });

  it('stops at the limit and when time runs out, leaving the rest due for the next tick', async () => {
    const w = world(T);
    for (const id of ['ch_1', 'ch_2', 'ch_3']) w.add(id, T);
    expect(await retryDueRevocations(w.deps, { limit: 2 })).toMatchObject({ due: 3, deferred: 1 });
    expect([...w.records.keys()]).toEqual(['ch_3']);
    w.add('ch_4', T);
    expect(await retryDueRevocations(w.deps, { hasTimeFor: () => false })).toMatchObject({
      due: 2,
      revoked: [],
      deferred: 2,
    });
  });
});
