import { dispatchDueChannels, MAX_TICK_AGE_MS } from '../../../core/inbound/dispatch';
import { pollChannel } from '../../../core/inbound/poll';
import {
  FakeChannelState,
  FakeClock,
  FakeDue,
  FakeInbound,
  FakeX,
  INBOUND_T0,
  makeChannel,
  staticTokens,
} from './fakes';

describe('dispatchDueChannels', () => {
  const setup = (n: number) => {
    const clock = new FakeClock(INBOUND_T0);
    const due = new FakeDue();
    for (let i = 0; i < n; i++)
      due.due.set(`ch${String(i).padStart(4, '0')}`, new Date(clock.epochMs - 1000).toISOString());
    due.due.set('later', new Date(clock.epochMs + 60_000).toISOString());
    return { clock, due, deps: { clock, due, jobs: due } };
  };

  it('enqueues one job per due channel across pages, with the tick, the seen due time and a dedup key', async () => {
    const s = setup(250);
    const out = await dispatchDueChannels(s.deps);
    const tick = s.clock.now().toISOString();
    expect(out).toEqual({ due: 250, enqueued: 250, failed: 0, pages: 3, tick });
    expect(new Set(s.due.jobs.map((j) => j.channelId)).size).toBe(250);
    for (const j of s.due.jobs) {
      expect(j).toEqual({
        channelId: j.channelId,
        tick,
        dueAt: s.due.due.get(j.channelId),
        dedupKey: `${j.channelId}@${tick}`,
      });
    }
    expect(s.due.jobs.some((j) => j.channelId === 'later')).toBe(false);
  });

  it('writes nothing to the due index: the tick is reads plus sends only', async () => {
    const s = setup(30);
    const before = new Map(s.due.due);
    await dispatchDueChannels(s.deps);
    expect(s.due.due).toEqual(before);
    expect(s.due.queries).toBe(1);
  });

  it('a retried invocation with the schedule time sends the same dedup keys', async () => {
    const s = setup(5);
    const scheduled = new Date(s.clock.epochMs);
    await dispatchDueChannels(s.deps, scheduled);
    s.clock.advanceMs(30_000);
    await dispatchDueChannels(s.deps, scheduled);
    const keys = s.due.jobs.map((j) => j.dedupKey);
    expect(keys).toHaveLength(10);
    expect(new Set(keys).size).toBe(5);
  });

  it.each([
    ['in the future', 30_000],
    ['older than the limit', -MAX_TICK_AGE_MS - 1000],
  ])('a schedule time %s is replaced by now', async (_name, offsetMs) => {
    const s = setup(1);
    const out = await dispatchDueChannels(s.deps, new Date(s.clock.epochMs + offsetMs));
    expect(out.tick).toBe(s.clock.now().toISOString());
  });

  it('a job that could not be enqueued is reported; its channel stays due for the next tick', async () => {
    const s = setup(3);
    s.due.failSend.add('ch0001');
    const out = await dispatchDueChannels(s.deps);
    expect(out).toMatchObject({ enqueued: 2, failed: 1 });
    s.due.failSend.clear();
    s.clock.advanceMs(60_000);
    const retry = await dispatchDueChannels(s.deps);
    expect(retry.enqueued).toBe(4); // nothing polled them meanwhile; 'later' is due now too
    expect(s.due.jobs.filter((j) => j.channelId === 'ch0001')).toHaveLength(1);
  });

  it('overlapping ticks enqueue twice, but the poller claims the channel once: X is read once', async () => {
    // Prepare: one channel, its due-index entry mirrored into the dispatcher's fake index
    const clock = new FakeClock(INBOUND_T0);
    const state = new FakeChannelState(makeChannel(), clock);
    const due = new FakeDue();
    due.due.set('ch1', state.dueAt!);
    const x = new FakeX({ tweets: [] });
    const deps = {
      clock,
      channels: state,
      state,
      tokens: staticTokens,
      openX: x.reader,
      publisher: new FakeInbound(),
      tier: 'unlimited' as const,
      sleep: async () => undefined,
    };
    // Act: two ticks list the channel before any poll ran, then every job is handled
    await Promise.all([
      dispatchDueChannels({ clock, due, jobs: due }),
      dispatchDueChannels({ clock, due, jobs: due }),
    ]);
    expect(due.jobs).toHaveLength(2);
    const outcomes = await Promise.all(
      due.jobs.map((j, i) =>
        pollChannel(deps, { channelId: j.channelId, owner: `msg-${i}`, tick: j.tick, dueAt: j.dueAt }),
      ),
    );
    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(['polled', 'skipped']);
    expect(outcomes.find((o) => o.status === 'skipped')!.reason).toMatch(/not_due|lease_held/);
    expect(x.calls.mentions).toBe(1);
  });
});
