/**
 * DESIGN.md "never call again after a 429 before its reset", when the rest of the poll fails: the 429's
 * block must not depend on the poll's final write (found by the soak, seed 750: a crash before the
 * final write dropped the block, and the redelivered job read mentions inside the 429 window).
 */
import { retryable } from '../../../core/errors';
import { pollChannel, type PollDeps } from '../../../core/inbound/poll';
import {
  DM_EVENTS_ENDPOINT,
  MENTIONS_ENDPOINT,
  RATE_LIMIT_FALLBACK_SECONDS,
  blockAfter429,
} from '../../../core/inbound/planner';
import { RecentRateBlocks } from '../../../core/inbound/rate-blocks';
import type { PollStateStore } from '../../../core/inbound/types';
import {
  FakeChannelState,
  FakeClock,
  INBOUND_T0,
  FakeInbound,
  FakeX,
  dm,
  makeChannel,
  staticTokens,
  tweet,
  type FakeXOptions,
} from './fakes';

function setup(xOpts: FakeXOptions) {
  const clock = new FakeClock(INBOUND_T0);
  const state = new FakeChannelState(makeChannel(), clock);
  const inbound = new FakeInbound();
  const x = new FakeX(xOpts);
  const deps: PollDeps = {
    clock,
    channels: state,
    state,
    tokens: staticTokens,
    openX: x.reader,
    publisher: inbound,
    tier: 'unlimited',
    sleep: async () => undefined,
    random: () => 0.5,
  };
  const poll = (owner: string, job: { tick?: string; dueAt?: string } = {}) =>
    pollChannel(deps, { channelId: 'ch1', owner, ...job });
  return { clock, state, inbound, x, deps, poll };
}

/** The fake's poll-state methods bound to it, some replaced. */
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

const limited = (reset: Date) => retryable('rate_limited', 'X rate limit reached', reset);

describe('a 429 block outlives the rest of the poll', () => {
  it('crash before the final write: the redelivered job does not call the endpoint before the reset', async () => {
    const s = setup({ tweets: [tweet(1)], dms: [dm(10)] });
    const reset = new Date(s.clock.epochMs + 90_000);
    s.x.opts.faults = [{ endpoint: 'mentions', call: 0, error: limited(reset) }];
    const job = { tick: new Date(s.clock.epochMs).toISOString(), dueAt: s.state.dueAt! };
    const real = s.state.finishPoll.bind(s.state);
    s.deps.state = stateWith(s.state, {
      finishPoll: async () => {
        throw retryable('internal', 'crash before the final write');
      },
      releasePoll: async () => undefined, // the process died: nothing handed back
    });
    await expect(s.poll('msg-1', job)).rejects.toMatchObject({ code: 'internal' });
    expect(s.x.calls.mentions).toBe(1);
    expect(s.state.channel.health.notBefore[MENTIONS_ENDPOINT]).toBe(reset.toISOString());

    // SQS redelivers the same message (same owner): it takes its claim back, reads DMs, not mentions
    s.deps.state = stateWith(s.state, { finishPoll: real });
    s.clock.advanceMs(30_000);
    await expect(s.poll('msg-1', job)).resolves.toMatchObject({ status: 'polled' });
    expect(s.x.calls.mentions).toBe(1);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:dm:10']);
    expect(s.state.channel.health.notBefore[MENTIONS_ENDPOINT]).toBe(reset.toISOString());

    // after the reset, mentions are read again and the mention is delivered
    s.clock.epochMs = reset.getTime() + 1000;
    await s.poll('msg-2');
    expect(s.x.calls.mentions).toBe(2);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:dm:10', 'x:tweet:1']);
  });

  it('final write lost to a checkpoint race: the next job still finds the endpoint blocked', async () => {
    const s = setup({ tweets: [tweet(1)], dms: [dm(10)] });
    const reset = new Date(s.clock.epochMs + 120_000);
    s.x.opts.faults = [{ endpoint: 'mentions', call: 0, error: limited(reset) }];
    s.deps.state = stateWith(s.state, {
      finishPoll: async () => {
        throw retryable('conflict', 'checkpoints of channel ch1 moved meanwhile (another poll?)');
      },
    });
    await expect(s.poll('msg-1')).rejects.toMatchObject({ code: 'conflict' });
    // the claim was handed back: the channel is due at once, but mentions stay blocked until the reset
    s.deps.state = s.state;
    for (const [i, ms] of [10_000, 40_000, 60_000].entries()) {
      s.clock.advanceMs(ms);
      await s.poll(`msg-${i + 2}`);
      expect(s.x.calls.mentions).toBe(1);
    }
    s.clock.epochMs = reset.getTime();
    await s.poll('msg-9');
    expect(s.x.calls.mentions).toBe(2);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:dm:10', 'x:tweet:1']);
  });

  it('stores the block once, before the final write, and never moves a later stored block earlier', async () => {
    const s = setup({ tweets: [tweet(1)] });
    const reset = new Date(s.clock.epochMs + 60_000);
    s.x.opts.faults = [{ endpoint: 'mentions', call: 0, error: limited(reset) }];
    const later = new Date(s.clock.epochMs + 600_000).toISOString();
    const order: string[] = [];
    s.deps.state = stateWith(s.state, {
      blockEndpoint: async (id, endpoint, until) => {
        order.push(`block ${endpoint} ${until}`);
        // another writer stored a later block meanwhile
        s.state.channel.health.notBefore[endpoint] = later;
        await s.state.blockEndpoint(id, endpoint, until);
      },
      finishPoll: async (id, f) => {
        order.push('finish');
        await s.state.finishPoll(id, f);
      },
    });
    await s.poll('msg-1');
    expect(order).toEqual([`block ${MENTIONS_ENDPOINT} ${reset.toISOString()}`, 'finish']);
    expect(s.state.blockWrites).toBe(1);
    expect(s.state.channel.health.notBefore[MENTIONS_ENDPOINT]).toBe(later);
  });

  it('a reset not after our clock (X and we disagree about the time) blocks one 15-minute window', async () => {
    const s = setup({ tweets: [tweet(1)] });
    const stale = new Date(s.clock.epochMs - 5_000);
    s.x.opts.faults = [{ endpoint: 'mentions', call: 0, error: limited(stale) }];
    const now = s.clock.epochMs;
    await s.poll('msg-1');
    const until = new Date(now + RATE_LIMIT_FALLBACK_SECONDS * 1000);
    expect(s.state.channel.health.notBefore[MENTIONS_ENDPOINT]).toBe(until.toISOString());
    s.clock.advanceMs(60_000);
    await s.poll('msg-2');
    expect(s.x.calls.mentions).toBe(1);
  });
});

describe('a 429 block whose every write failed (soak seed 895)', () => {
  // One poll of a batch died on its publish; the concurrent poll of another channel met a 429 on
  // GET /2/dm_events and then lost its block write, its final write and its claim release with it.
  // Once the lease ran out, the next job read DMs inside the 429 window.
  const deadStore = (state: FakeChannelState) =>
    stateWith(state, {
      blockEndpoint: async () => {
        throw retryable('internal', 'injected crash: process is dead');
      },
      finishPoll: async () => {
        throw retryable('internal', 'injected crash: process is dead');
      },
      releasePoll: async () => {
        throw retryable('internal', 'injected crash: process is dead');
      },
    });

  it('the next job in the same process, after the lease, does not read DMs before the reset and stores the block', async () => {
    const s = setup({ tweets: [tweet(1)], dms: [dm(10)] });
    s.deps.limits = { leaseMs: 30_000 };
    s.deps.rateBlocks = new RecentRateBlocks();
    const reset = new Date(s.clock.epochMs + 108_000);
    s.x.opts.faults = [{ endpoint: 'dms', call: 0, error: limited(reset) }];
    s.deps.state = deadStore(s.state);
    await expect(s.poll('msg-1')).rejects.toMatchObject({ code: 'internal' });
    expect(s.x.calls.dms).toBe(1);
    expect(s.state.channel.health.notBefore[DM_EVENTS_ENDPOINT]).toBeUndefined();

    // the store is reachable again; the claim left behind has expired
    s.deps.state = s.state;
    s.clock.advanceMs(54_000);
    await expect(s.poll('msg-2')).resolves.toMatchObject({ status: 'polled' });
    expect(s.x.calls.dms).toBe(1);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:1']);
    expect(s.state.channel.health.notBefore[DM_EVENTS_ENDPOINT]).toBe(reset.toISOString());

    // at the reset DMs are read again and the DM is delivered
    s.clock.epochMs = reset.getTime();
    await s.poll('msg-3');
    expect(s.x.calls.dms).toBe(2);
    expect(s.inbound.received.map((m) => m.id)).toEqual(['x:tweet:1', 'x:dm:10']);
  });

  it('the block held in memory never moves a later stored block earlier, and ends at its reset', async () => {
    const blocks = new RecentRateBlocks();
    const now = new Date('2026-09-01T12:00:00.000Z');
    blocks.note('ch1', DM_EVENTS_ENDPOINT, new Date('2026-09-01T12:02:00.000Z'));
    blocks.note('ch1', DM_EVENTS_ENDPOINT, new Date('2026-09-01T12:01:00.000Z'));
    expect(blocks.active('ch1', now)).toEqual({ [DM_EVENTS_ENDPOINT]: '2026-09-01T12:02:00.000Z' });
    expect(blocks.active('ch2', now)).toEqual({});
    expect(blocks.active('ch1', new Date('2026-09-01T12:02:00.000Z'))).toEqual({});

    const s = setup({ dms: [dm(10)] });
    s.deps.rateBlocks = new RecentRateBlocks();
    const later = new Date(s.clock.epochMs + 600_000).toISOString();
    s.state.channel.health.notBefore[DM_EVENTS_ENDPOINT] = later;
    s.deps.rateBlocks.note('ch1', DM_EVENTS_ENDPOINT, new Date(s.clock.epochMs + 60_000));
    await s.poll('msg-1');
    expect(s.x.calls.dms).toBe(0);
    expect(s.state.channel.health.notBefore[DM_EVENTS_ENDPOINT]).toBe(later);
  });

  it('remembers at most maxChannels channels, dropping the oldest', () => {
    const blocks = new RecentRateBlocks(2);
    const now = new Date('2026-09-01T12:00:00.000Z');
    const until = new Date('2026-09-01T12:05:00.000Z');
    for (const id of ['a', 'b', 'c']) blocks.note(id, DM_EVENTS_ENDPOINT, until);
    expect(blocks.active('a', now)).toEqual({});
    expect(blocks.active('c', now)).toEqual({ [DM_EVENTS_ENDPOINT]: until.toISOString() });
  });
});

describe('blockAfter429', () => {
  const now = new Date('2026-09-01T12:00:00.000Z');
  it("keeps X's reset when it lies after our clock", () => {
    const reset = new Date('2026-09-01T12:01:30.000Z');
    expect(blockAfter429(reset, now)).toEqual(reset);
  });
  it('waits one standard window without a reset, or with one not after our clock', () => {
    const window = new Date(now.getTime() + RATE_LIMIT_FALLBACK_SECONDS * 1000);
    expect(blockAfter429(undefined, now)).toEqual(window);
    expect(blockAfter429(now, now)).toEqual(window);
    expect(blockAfter429(new Date('2026-09-01T11:59:00.000Z'), now)).toEqual(window);
    expect(blockAfter429(new Date(Number.NaN), now)).toEqual(window);
  });
});
