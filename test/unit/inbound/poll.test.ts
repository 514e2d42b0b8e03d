import fc from 'fast-check';
import { inboundMessageSchema } from '../../../contracts';
import { needsReauth, permanent, retryable } from '../../../core/errors';
import { pollChannel, type PollDeps } from '../../../core/inbound/poll';
import { DM_EVENTS_ENDPOINT, MENTIONS_ENDPOINT } from '../../../core/inbound/planner';
import type { Channel } from '../../../core/channel';
import type { PollStateStore } from '../../../core/inbound/types';
import {
  ACCOUNT,
  FakeChannelState,
  FakeClock,
  INBOUND_T0,
  FakeFollows,
  FakeInbound,
  FakeX,
  dm,
  forbidden,
  makeChannel,
  staticTokens,
  tweet,
  type FakeXOptions,
} from './fakes';

function setup(xOpts: FakeXOptions, channel: Partial<Channel> = {}, limits: PollDeps['limits'] = {}) {
  const clock = new FakeClock(INBOUND_T0);
  const state = new FakeChannelState(makeChannel(channel), clock);
  const inbound = new FakeInbound();
  const x = new FakeX(xOpts);
  const follows = new FakeFollows();
  const deps: PollDeps = {
    clock,
    channels: state,
    state,
    tokens: staticTokens,
    openX: x.reader,
    publisher: inbound,
    follows,
    tier: 'unlimited',
    limits,
    sleep: async () => undefined,
    random: () => 0.5,
  };
  const poll = (owner = 'job-1', job: { tick?: string; dueAt?: string } = {}) =>
    pollChannel(deps, { channelId: 'ch1', owner, ...job });
  return { clock, state, inbound, x, follows, deps, poll };
}

/** The fake's poll-state methods bound to it, some replaced (writes land on the fake itself). */
function stateWith(state: FakeChannelState, over: Partial<PollStateStore>): PollStateStore {
  return {
    peekDue: state.peekDue.bind(state),
    claimPoll: state.claimPoll.bind(state),
    finishPoll: state.finishPoll.bind(state),
    releasePoll: state.releasePoll.bind(state),
    blockEndpoint: state.blockEndpoint.bind(state),
    ...over,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('pollChannel', () => {
  it('delivers mentions and DMs oldest first, valid v1, and moves both checkpoints', async () => {
    // Prepare
    const s = setup({ tweets: range(1, 5).map((i) => tweet(i)), dms: range(10, 12).map((i) => dm(i)) });
    // Act
    const out = await s.poll();
    // Assess
    expect(out).toMatchObject({ status: 'polled', mentionsDelivered: 5, dmsDelivered: 3 });
    expect(s.inbound.received.map((m) => m.id)).toEqual([
      ...range(1, 5).map((i) => `x:tweet:${i}`),
      ...range(10, 12).map((i) => `x:dm:${i}`),
    ]);
    for (const m of s.inbound.received) inboundMessageSchema.parse(m);
    expect(s.state.channel.checkpoints).toMatchObject({
      mentionsSinceId: '5',
      dmEventId: '12',
      mentionsBacklog: null,
    });
    expect(s.state.channel.health.counters).toMatchObject({ mentionsDelivered: 5, dmsDelivered: 3 });
    expect(s.state.dueAt).not.toBeNull();
  });

  it('never delivers the account own posts/DMs, pure reposts, or items before connectedAt - backfill', async () => {
    const s = setup(
      {
        tweets: [
          tweet(1, ACCOUNT.id),
          tweet(2, '2000', { referenced_tweets: [{ type: 'retweeted', id: '1' }] }),
          tweet(3, '2000', { created_at: '2025-12-31T22:00:00.000Z' }),
          tweet(4),
        ],
        dms: [dm(10, ACCOUNT.id), dm(11, '2000', { created_at: '2025-12-31T22:00:00.000Z' }), dm(12)],
      },
      { options: { backfillHours: 1, includeReposts: false, allowPosts: true } },
    );
    await s.poll();
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:4', 'x:dm:12']);
  });

  it('a second poll reads nothing new and delivers nothing twice', async () => {
    const s = setup({ tweets: range(1, 3).map((i) => tweet(i)), dms: [dm(10)] });
    await s.poll();
    s.x.opts.tweets!.push(tweet(4));
    s.x.opts.dms!.push(dm(11));
    s.clock.advanceMs(120_000);
    await s.poll('job-2');
    expect(s.inbound.sends).toBe(6);
    expect(s.inbound.received.map((m) => m.id)).toEqual([
      'x:tweet:1',
      'x:tweet:2',
      'x:tweet:3',
      'x:dm:10',
      'x:tweet:4',
      'x:dm:11',
    ]);
  });

  it('a scan cut by the page bound continues next run without gaps (mentions and DMs)', async () => {
    const s = setup(
      { tweets: range(1, 250).map((i) => tweet(i)), dms: range(1000, 1230).map((i) => dm(i)) },
      {},
      { maxMentionPages: 1, maxDmPages: 1, dmIdlePageSize: 100 },
    );
    for (let run = 0; run < 6; run++) {
      await s.poll(`job-${run}`);
      s.clock.advanceMs(120_000);
    }
    const ids = s.inbound.received.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((i) => i.startsWith('x:tweet:')).length).toBe(250);
    expect(ids.filter((i) => i.startsWith('x:dm:')).length).toBe(231);
    expect(s.state.channel.checkpoints).toMatchObject({
      mentionsSinceId: '250',
      mentionsBacklog: null,
      dmEventId: '1230',
      dmBacklog: null,
    });
  });

  it('skips the run when another job holds the poll lease', async () => {
    const s = setup({ tweets: [tweet(1)] });
    s.state.owner = 'other-job';
    s.state.dueAt = new Date(s.clock.epochMs + 120_000).toISOString();
    const out = await s.poll();
    expect(out).toMatchObject({ status: 'skipped', reason: 'lease_held' });
    expect(s.x.calls.mentions).toBe(0);
  });

  it('after a 429 the endpoint is not called before its reset; the other stream still delivers', async () => {
    const reset = new Date(Date.parse('2026-01-01T01:10:00.000Z'));
    const s = setup({
      tweets: [tweet(1)],
      dms: [dm(10)],
      faults: [
        { endpoint: 'mentions', call: 0, error: retryable('rate_limited', 'X rate limit reached', reset) },
      ],
    });
    const out = await s.poll();
    expect(out.errors).toEqual([{ endpoint: MENTIONS_ENDPOINT, code: 'rate_limited', kind: 'retryable' }]);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:dm:10']);
    expect(s.state.channel.health.notBefore[MENTIONS_ENDPOINT]).toBe(reset.toISOString());
    s.clock.advanceMs(5 * 60_000);
    await s.poll('job-2');
    expect(s.x.calls.mentions).toBe(1);
    s.clock.advanceMs(6 * 60_000);
    await s.poll('job-3');
    expect(s.x.calls.mentions).toBe(2);
    expect(s.inbound.received.map((m) => m.id)).toContain('x:tweet:1');
  });

  it('403 access level on DMs → degraded with the reason, mentions still delivered, DMs retried only after 24 h', async () => {
    const s = setup({
      tweets: [tweet(1)],
      dms: [dm(10)],
      faults: [{ endpoint: 'dms', call: 0, error: forbidden() }],
    });
    const out = await s.poll();
    expect(out.degraded).toBe(true);
    expect(s.state.channel.status).toBe('degraded');
    expect(s.state.channel.health.disabled.dms).toMatch(/plan/);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:1']);
    s.clock.advanceMs(3600_000);
    await s.poll('job-2');
    expect(s.x.calls.dms).toBe(1);
    s.clock.advanceMs(24 * 3600_000);
    await s.poll('job-3');
    expect(s.x.calls.dms).toBe(2);
    expect(s.state.channel.status).toBe('active');
    expect(s.state.channel.health.disabled.dms).toBeUndefined();
  });

  it('402 credits depleted → degraded and a slow retry of both endpoints', async () => {
    const s = setup({
      tweets: [tweet(1)],
      faults: [
        { endpoint: 'mentions', call: 0, error: permanent('credits_depleted', 'X API credits are depleted') },
      ],
    });
    await s.poll();
    expect(s.state.channel.status).toBe('degraded');
    expect(Date.parse(s.state.channel.health.notBefore[DM_EVENTS_ENDPOINT])).toBe(s.clock.epochMs + 3600_000);
  });

  it('401 → one forced refresh, then needs_reauth if X still refuses', async () => {
    const s = setup({
      faults: [
        { endpoint: 'mentions', call: 0, error: needsReauth('X rejected the access token') },
        { endpoint: 'mentions', call: 1, error: needsReauth('X rejected the access token') },
      ],
    });
    const forced: boolean[] = [];
    s.deps.tokens = {
      getValidAccessToken: async (_id, o) => (forced.push(Boolean(o?.forceRefresh)), 'tok-xxxxxxxxxxxxx'),
    };
    const out = await s.poll();
    expect(forced).toEqual([false, true]);
    expect(out).toMatchObject({ status: 'skipped', reason: 'needs_reauth' });
    expect(s.state.channel.status).toBe('needs_reauth');
  });

  it('transient errors are retried with back-off within the budget, then the job fails', async () => {
    const flaky = retryable('x_unavailable', 'X answered 503');
    const ok = setup({ tweets: [tweet(1)], faults: [{ endpoint: 'mentions', call: 0, error: flaky }] });
    await ok.poll();
    expect(ok.inbound.received.map((m) => m.id)).toContain('x:tweet:1');
    const bad = setup({
      tweets: [tweet(1)],
      faults: range(0, 5).map((call) => ({ endpoint: 'mentions' as const, call, error: flaky })),
    });
    await expect(bad.poll()).rejects.toMatchObject({ kind: 'retryable', code: 'x_unavailable' });
    // the claim is handed back: the redelivered job (or the next tick) polls again at once
    expect(bad.state.owner).toBeNull();
    expect(Date.parse(bad.state.dueAt!)).toBeLessThanOrEqual(bad.clock.epochMs);
  });

  it('auto-follow follows each new author once within the daily cap; the first 403 turns it off', async () => {
    const s = setup(
      { tweets: [tweet(1, '2001'), tweet(2, '2002'), tweet(3, '2001'), tweet(4, '2003')], dms: [] },
      { autoFollow: true },
      { followDailyCap: 2 },
    );
    await s.poll();
    expect(s.x.followed).toEqual(['2001', '2002']);
    expect(s.follows.records.get('2003')?.state).toBe('queued');
    s.clock.advanceMs(24 * 3600_000);
    await s.poll('job-2');
    expect(s.x.followed).toEqual(['2001', '2002', '2003']);

    const f = setup(
      {
        tweets: [tweet(1, '2001'), tweet(2, '2002')],
        faults: [{ endpoint: 'follow', call: 0, error: forbidden() }],
      },
      { autoFollow: true },
    );
    await f.poll();
    expect(f.state.channel.health.disabled.autoFollow).toMatch(/Enterprise/);
    expect(f.inbound.received).toHaveLength(2);
    f.x.opts.tweets!.push(tweet(3, '2004'));
    f.clock.advanceMs(120_000);
    await f.poll('job-2');
    expect(f.x.calls.follow).toBe(1);
  });

  it('property: any crash between publish and checkpoint, in any run, never skips an item; dedup ids absorb the duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 25 }),
        fc.array(fc.constantFrom('publish', 'checkpoint', 'none'), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (nTweets, nDms, crashes, pages) => {
          const s = setup(
            {
              tweets: range(1, nTweets).map((i) => tweet(i, String(2000 + (i % 3)))),
              dms: range(500, 499 + nDms).map((i) => dm(i, String(3000 + (i % 2)))),
            },
            {},
            { maxMentionPages: pages, maxDmPages: pages, dmIdlePageSize: 5 },
          );
          // shrink pages so bounds bite: the fake honours maxResults only up to 100
          const realState = s.state.finishPoll.bind(s.state);
          let crash: string = 'none';
          s.deps.state = stateWith(s.state, {
            finishPoll: async (...args: Parameters<typeof realState>) => {
              if (crash === 'checkpoint') throw retryable('internal', 'crash before checkpoint');
              await realState(...args);
              if (crash === 'after') throw retryable('internal', 'crash after checkpoint');
            },
          });
          let run = 0;
          for (const c of crashes) {
            crash = c;
            s.inbound.failOnCall = c === 'publish' ? 0 : null;
            await s.poll(`job-${run++}`).catch(() => undefined);
            s.state.owner = null; // the crashed job's claim expires before its redelivery
            s.clock.advanceMs(10 * 60_000);
          }
          crash = 'none';
          s.inbound.failOnCall = null;
          for (let i = 0; i < 20; i++) {
            await s.poll(`job-${run++}`);
            s.clock.advanceMs(10 * 60_000);
          }
          const ids = s.inbound.received.map((m) => m.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.filter((i) => i.startsWith('x:tweet:')).sort()).toEqual(
            range(1, nTweets)
              .map((i) => `x:tweet:${i}`)
              .sort(),
          );
          expect(ids.filter((i) => i.startsWith('x:dm:')).sort()).toEqual(
            range(500, 499 + nDms)
              .map((i) => `x:dm:${i}`)
              .sort(),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('per-poll cost and duplicates', () => {
    it('reads both streams, publishes them in ONE call and ends the poll with ONE write', async () => {
      const s = setup({ tweets: range(1, 3).map((i) => tweet(i)), dms: range(10, 11).map((i) => dm(i)) });
      const peek = jest.spyOn(s.state, 'peekDue');
      const dueAt = s.state.dueAt!;
      await s.poll('job-1', { tick: new Date(s.clock.epochMs).toISOString(), dueAt });
      expect(s.inbound.publishCalls).toBe(1);
      expect(s.inbound.received).toHaveLength(5);
      expect(s.state.finishWrites).toBe(1);
      expect(s.state.checkpointWrites).toBe(1);
      // the job carried the due time: no read before the claim
      expect(peek).not.toHaveBeenCalled();
      expect(s.state.owner).toBeNull();
    });

    it('a copy of a job (same dueAt, other SQS message) is refused by the claim and never reaches X', async () => {
      const s = setup({ tweets: [tweet(1)] });
      const job = { tick: new Date(s.clock.epochMs).toISOString(), dueAt: s.state.dueAt! };
      await s.poll('job-1', job);
      const calls = { ...s.x.calls };
      s.clock.advanceMs(2_000);
      const out = await s.poll('job-1-copy', job);
      expect(out).toMatchObject({ status: 'skipped', reason: 'not_due' });
      expect(s.x.calls).toEqual(calls);
      expect(s.inbound.sends).toBe(1);
    });

    it('a job without dueAt whose channel was polled after its tick is skipped after one read, no X call', async () => {
      const s = setup({ tweets: [tweet(1)] });
      const tick = new Date(s.clock.epochMs).toISOString();
      await s.poll('job-1', { tick });
      const peek = jest.spyOn(s.state, 'peekDue');
      const claim = jest.spyOn(s.state, 'claimPoll');
      s.clock.advanceMs(5_000);
      const out = await s.poll('job-2', { tick });
      expect(out).toMatchObject({ status: 'skipped', reason: 'not_due' });
      expect(peek).toHaveBeenCalledTimes(1);
      expect(claim).not.toHaveBeenCalled();
      expect(s.x.calls.mentions).toBe(1);
    });

    it('a redelivery of the job that crashed holding the claim takes its own claim back', async () => {
      const s = setup({ tweets: [tweet(1)] });
      const job = { tick: new Date(s.clock.epochMs).toISOString(), dueAt: s.state.dueAt! };
      const real = s.state.finishPoll.bind(s.state);
      s.deps.state = stateWith(s.state, {
        finishPoll: async () => {
          throw retryable('internal', 'crash before the final write');
        },
        releasePoll: async () => undefined, // the process died: nothing handed back
      });
      await expect(s.poll('msg-1', job)).rejects.toMatchObject({ code: 'internal' });
      expect(s.state.owner).toBe('msg-1');
      s.deps.state = stateWith(s.state, { finishPoll: real });
      s.clock.advanceMs(30_000);
      await expect(s.poll('msg-1', job)).resolves.toMatchObject({ status: 'polled' });
      expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:1']);
      expect(s.state.owner).toBeNull();
    });

    it('plans the next poll from the tick (tick + interval − slack), so the next tick finds it due', async () => {
      const s = setup({ tweets: [] });
      const tick = s.clock.epochMs;
      s.clock.advanceMs(400); // the poll runs shortly after its tick
      const out = await s.poll('job-1', { tick: new Date(tick).toISOString() });
      expect(out.nextPollAt).toBe(new Date(tick + 45_000).toISOString());
      expect(s.state.dueAt).toBe(new Date(tick + 45_000).toISOString());
      expect(Date.parse(s.state.dueAt!)).toBeLessThan(tick + 60_000);
    });

    it('a failed publish moves no checkpoint and leaves the streams due at once', async () => {
      const s = setup({ tweets: [tweet(1)], dms: [dm(10)] });
      s.inbound.failOnCall = 0;
      await expect(s.poll()).rejects.toMatchObject({ code: 'inbound_unavailable' });
      expect(s.state.channel.checkpoints).toMatchObject({ mentionsSinceId: null, dmEventId: null });
      expect(Date.parse(s.state.dueAt!)).toBeLessThanOrEqual(s.clock.epochMs);
      s.clock.advanceMs(60_000);
      await s.poll('job-2');
      expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:1', 'x:dm:10']);
    });

    it('writes only the health entries that changed (maps per key, never the whole map)', async () => {
      const s = setup({ tweets: [] }, { listenDms: false });
      const finish = jest.spyOn(s.state, 'finishPoll');
      await s.poll('job-1');
      const first = finish.mock.calls[0][1].health;
      expect(Object.keys(first.notBefore ?? {})).toEqual([MENTIONS_ENDPOINT]);
      expect(first.counters).toBeUndefined();
      // nothing read, so the checkpoints did not move and are not part of the write
      expect(finish.mock.calls[0][1].next).toBeUndefined();
    });
  });
});
