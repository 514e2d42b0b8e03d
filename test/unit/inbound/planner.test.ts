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
  const now = new Date('2026-01-01T00:00:00.000Z');
  const at = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
  it.each([
    ['no headers: steady cadence', 113, undefined, at(113)],
    ['nothing remains: after the reset', 60, { limit: 10, remaining: 0, resetAt: at(600) }, at(601)],
    ['few remain: spread over the window', 60, { limit: 10, remaining: 2, resetAt: at(600) }, at(300)],
    ['plenty remain: steady cadence', 60, { limit: 300, remaining: 250, resetAt: at(600) }, at(60)],
    ['stale headers are ignored', 60, { limit: 10, remaining: 0, resetAt: at(-5) }, at(60)],
  ])('%s', (_name, interval, observed, expected) => {
    expect(nextCallAt(now, interval, observed).toISOString()).toBe(expected);
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
