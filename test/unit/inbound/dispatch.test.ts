import { dispatchDueChannels } from '../../../core/inbound/dispatch';
import { FakeClock, FakeDue } from './fakes';

describe('dispatchDueChannels', () => {
  const setup = (n: number) => {
    const clock = new FakeClock();
    const due = new FakeDue();
    for (let i = 0; i < n; i++)
      due.due.set(`ch${String(i).padStart(4, '0')}`, new Date(clock.t - 1000).toISOString());
    due.due.set('later', new Date(clock.t + 60_000).toISOString());
    return { clock, due, deps: { clock, due, jobs: due, claimSeconds: 180 } };
  };

  it('enqueues one job per due channel across pages, with the tick, and claims them', async () => {
    const s = setup(250);
    const out = await dispatchDueChannels(s.deps);
    expect(out).toMatchObject({ due: 250, claimed: 250, enqueued: 250, failed: 0, pages: 3 });
    expect(new Set(s.due.jobs.map((j) => j.channelId)).size).toBe(250);
    expect(s.due.jobs.every((j) => j.tick === s.clock.now().toISOString())).toBe(true);
    expect(s.due.jobs.some((j) => j.channelId === 'later')).toBe(false);
  });

  it('an overlapping or retried tick does not double the work', async () => {
    const s = setup(30);
    const [a, b] = await Promise.all([dispatchDueChannels(s.deps), dispatchDueChannels(s.deps)]);
    expect(a.enqueued + b.enqueued).toBe(30);
    const again = await dispatchDueChannels(s.deps);
    expect(again.enqueued).toBe(0);
    expect(s.due.jobs).toHaveLength(30);
  });

  it('releases the claim of a job that could not be enqueued, so the next tick retries it', async () => {
    const s = setup(3);
    s.due.failSend.add('ch0001');
    const out = await dispatchDueChannels(s.deps);
    expect(out).toMatchObject({ enqueued: 2, failed: 1 });
    s.due.failSend.clear();
    const retry = await dispatchDueChannels(s.deps);
    expect(retry.enqueued).toBe(1);
    expect(s.due.jobs.map((j) => j.channelId).sort()).toEqual(['ch0000', 'ch0001', 'ch0002']);
  });

  it('a claimed channel becomes due again only after the claim expires', async () => {
    const s = setup(1);
    s.due.due.delete('later');
    await dispatchDueChannels(s.deps);
    s.clock.advance(120_000);
    expect((await dispatchDueChannels(s.deps)).enqueued).toBe(0);
    s.clock.advance(61_000);
    expect((await dispatchDueChannels(s.deps)).enqueued).toBe(1);
  });
});
