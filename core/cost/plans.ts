/**
 * Plan advice: from a channel's measured traffic (the month's counters run on to a whole month), what each
 * X plan would cost per month and which switches drive the cost (X-API.md §0, §3, §4, §9).
 * - pay-per-use: every count at the price list;
 * - pay-per-use with Owned Reads: post reads at $0.001 — only when the channel's account owns the X app;
 * - legacy Basic ($200) / Pro ($5,000): flat, for existing subscribers only, capped Post reads; XAA access
 *   is undocumented there, so real-time events would become polled reads (priced in the flat fee) and
 *   Basic allows one DM lookup a day.
 */
import { type XPriceTable } from './prices';

export type PlanName = 'payPerUse' | 'payPerUseOwnedReads' | 'basic' | 'pro';

export interface PlanEstimate {
  plan: PlanName;
  usdPerMonth: number;
  /** Whether the measured traffic fits the plan's caps and rules. */
  fits: boolean;
  note: string;
}

/** A switch of the channel (or outbound traffic) and what it costs per month at pay-per-use. */
export interface CostDriver {
  driver: 'listenMentions' | 'listenDms' | 'autoFollow' | 'outbound' | 'other';
  usdPerMonth: number;
  categories: string[];
}

export interface PlanAdvice {
  basis: 'projected month from this month’s measured traffic';
  plans: PlanEstimate[];
  cheapest: PlanName;
  drivers: CostDriver[];
}

const round2 = (usd: number) => Math.round(usd * 100) / 100;

/** Price of one count of `category` (µUSD) under `prices`; unknown categories cost nothing. */
export function unitMicros(category: string, prices: XPriceTable): number {
  if (category.startsWith('ev:')) return prices.events[category.slice(3)] ?? 0;
  if (category in prices.reads) return prices.reads[category as keyof XPriceTable['reads']];
  if (category in prices.writes) return prices.writes[category as keyof XPriceTable['writes']];
  return 0;
}

function driverOf(category: string): CostDriver['driver'] {
  if (category === 'postRead' || category === 'ownedRead' || category.startsWith('ev:post.'))
    return 'listenMentions';
  if (category === 'dmEventRead' || category === 'ev:dm.received' || category === 'ev:chat.received')
    return 'listenDms';
  if (category === 'follow' || category === 'userRead' || category.startsWith('ev:follow.'))
    return 'autoFollow';
  if (['post', 'postWithUrl', 'reply', 'dm'].includes(category)) return 'outbound';
  return 'other';
}

/** Advice for one channel (or the app) from counts per category over a whole month. */
export function advisePlans(monthCounts: Record<string, number>, prices: XPriceTable): PlanAdvice {
  let ppu = 0;
  let owned = 0;
  let postReads = 0;
  const drivers = new Map<CostDriver['driver'], CostDriver>();
  for (const [category, count] of Object.entries(monthCounts)) {
    const micros = count * unitMicros(category, prices);
    ppu += micros;
    const isPostRead = category === 'postRead' || category === 'ownedRead';
    if (isPostRead) postReads += count;
    owned += isPostRead ? count * prices.reads.ownedRead : micros;
    const d = driverOf(category);
    const entry = drivers.get(d) ?? { driver: d, usdPerMonth: 0, categories: [] };
    entry.usdPerMonth += micros / 1e6;
    entry.categories.push(category);
    drivers.set(d, entry);
  }
  const { basic, pro } = prices.legacyPlans;
  const plans: PlanEstimate[] = [
    {
      plan: 'payPerUse',
      usdPerMonth: round2(ppu / 1e6),
      fits: postReads <= prices.payPerUseMonthlyPostReads,
      note: 'X’s default plan since 2026-02: every read, write and real-time event billed',
    },
    {
      plan: 'payPerUseOwnedReads',
      usdPerMonth: round2(owned / 1e6),
      fits: postReads <= prices.payPerUseMonthlyPostReads,
      note: 'only if this X account owns the developer app (its own mentions read at $0.001)',
    },
    {
      plan: 'basic',
      usdPerMonth: basic.usdPerMonth,
      fits: postReads <= basic.monthlyPostReads,
      note: `legacy, existing subscribers only: ${basic.monthlyPostReads.toLocaleString('en-US')} post reads a month, one DM lookup a day, no documented real time`,
    },
    {
      plan: 'pro',
      usdPerMonth: pro.usdPerMonth,
      fits: postReads <= pro.monthlyPostReads,
      note: `legacy, existing subscribers only: ${pro.monthlyPostReads.toLocaleString('en-US')} post reads a month, no documented real time`,
    },
  ];
  const fitting = plans.filter((p) => p.fits && p.plan !== 'payPerUseOwnedReads');
  const cheapest = (fitting.length ? fitting : plans).reduce((a, b) =>
    b.usdPerMonth < a.usdPerMonth ? b : a,
  ).plan;
  return {
    basis: 'projected month from this month’s measured traffic',
    plans,
    cheapest,
    drivers: [...drivers.values()]
      .map((d) => ({ ...d, usdPerMonth: round2(d.usdPerMonth) }))
      .sort((a, b) => b.usdPerMonth - a.usdPerMonth),
  };
}
