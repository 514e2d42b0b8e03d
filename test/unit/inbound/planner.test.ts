import {
  TIER_WINDOWS,
  nextCallAt,
  nextPollAt,
  planPollInterval,
  pollIntervalsByTier,
  type XTier,
} from '../../../core/inbound/planner';

describe('planPollInterval', () => {
  it.each<[XTier, number, number | null]>([
    ['free', 900, null],
    ['basic', 113, 86_400],
    ['pro', 60, 129],
    ['pay-per-use', 60, 129],
    ['enterprise', 60, 129],
    ['unlimited', 60, 60],
  ])('%s → mentions every %ss, DMs every %ss', (tier, mentions, dms) => {
    expect(planPollInterval(TIER_WINDOWS[tier])).toEqual({ mentionsSeconds: mentions, dmsSeconds: dms });
  });

  it('keeps every tier inside its window with room to spare', () => {
    for (const [tier, iv] of Object.entries(pollIntervalsByTier())) {
      const w = TIER_WINDOWS[tier as XTier];
      if (w.mentions)
        expect((w.mentions.windowSeconds / iv.mentionsSeconds!) * 1).toBeLessThanOrEqual(w.mentions.limit);
      if (w.dms) expect(w.dms.windowSeconds / iv.dmsSeconds!).toBeLessThanOrEqual(w.dms.limit);
    }
  });
});

describe('nextCallAt', () => {
  const tick = new Date('2026-01-01T00:00:00.000Z');
  const at = (s: number) => new Date(tick.getTime() + s * 1000).toISOString();
  // the poll ran 0.4 s after its tick, as it does in steady state
  const now = new Date(tick.getTime() + 400);
  it.each([
    ['no headers: one interval after the tick, minus the slack', 113, undefined, at(98)],
    ['1-min cadence: due again before the next tick', 60, undefined, at(45)],
    ['nothing remains: after the reset', 60, { limit: 10, remaining: 0, resetAt: at(600) }, at(601)],
    ['few remain: spread over the window', 60, { limit: 10, remaining: 2, resetAt: at(600.4) }, at(300.4)],
    ['plenty remain: steady cadence', 60, { limit: 300, remaining: 250, resetAt: at(600) }, at(45)],
    ['stale headers are ignored', 60, { limit: 10, remaining: 0, resetAt: at(-5) }, at(45)],
  ])('%s', (_name, interval, observed, expected) => {
    expect(nextCallAt(now, interval, observed, tick).toISOString()).toBe(expected);
  });

  it('the next tick one interval later finds the endpoint due (polled every tick, not every other)', () => {
    for (const interval of [60, 113, 129]) {
      const next = nextCallAt(now, interval, undefined, tick).getTime();
      const ticksLater = Math.ceil(interval / 60) * 60_000;
      expect(next).toBeLessThanOrEqual(tick.getTime() + ticksLater);
      // and never earlier than the planned cadence allows, less the slack
      expect(next).toBeGreaterThanOrEqual(tick.getTime() + interval * 1000 - 15_000);
    }
  });

  it('a job handled long after its tick still waits half an interval from now', () => {
    const late = new Date(tick.getTime() + 50_000);
    expect(nextCallAt(late, 60, undefined, tick).toISOString()).toBe(at(80));
  });

  it('a tick in the future (clock skew) counts as now', () => {
    expect(nextCallAt(tick, 60, undefined, new Date(tick.getTime() + 30_000)).toISOString()).toBe(at(45));
  });
});

describe('nextPollAt', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  it('takes the earliest endpoint, never the past, falls back when nothing is on', () => {
    expect(nextPollAt(now, [new Date(now.getTime() + 5000), new Date(now.getTime() + 1000)]).getTime()).toBe(
      now.getTime() + 1000,
    );
    expect(nextPollAt(now, [new Date(now.getTime() - 5000)]).getTime()).toBe(now.getTime());
    expect(nextPollAt(now, [], 3600).getTime()).toBe(now.getTime() + 3_600_000);
  });
});
