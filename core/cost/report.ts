/**
 * The cost surface of a channel and of the app: X spend month to date and projected, AWS beside it, the
 * budget's state and plan advice — computed from the ledger's counters, never from X.
 *
 * AWS is a per-message model, not a bill: the benchmark's measured AWS usage per unit (bench/scenarios/
 * aws-cost.ts, priced with AWS's us-east-1 on-demand list prices in bench/prices.ts; run of 2026-11-25,
 * bench/results/latest.json `aws`): an idle poll $0.0000087, an inbound message $0.000000214, an outbound
 * command $0.0000049, the channel's token secret $0.40 a month. Re-measure with `npm run bench`.
 */
import { sumDays, monthWindow, projectMonth, type SpendDay, type SpendMonth } from './meter';
import { advisePlans, type PlanAdvice } from './plans';
import { toUsd, type XPriceTable } from './prices';

/** USD per unit of the AWS model (see the header for the source). */
export const AWS_COST_MODEL = {
  source:
    'npm run bench, scenario aws (bench/scenarios/aws-cost.ts), run of 2026-11-25, us-east-1 list prices',
  usdPerPoll: 0.0000087,
  usdPerInboundMessage: 0.000000214,
  usdPerOutboundCommand: 0.0000049,
  usdPerChannelSecretMonth: 0.4,
} as const;

export type BudgetState = 'none' | 'ok' | 'warning' | 'exhausted';

/** Where a monthly budget stands: 80 % warns, 100 % degrades (core/cost/budget.ts). */
export interface BudgetStatus {
  monthlyUsd: number | null;
  usedUsd: number;
  usedPercent: number | null;
  state: BudgetState;
}

export const BUDGET_WARNING_SHARE = 0.8;

export function budgetStatus(monthlyUsd: number | null | undefined, usedUsd: number): BudgetStatus {
  if (monthlyUsd === null || monthlyUsd === undefined)
    return { monthlyUsd: null, usedUsd, usedPercent: null, state: 'none' };
  const share = monthlyUsd === 0 ? (usedUsd > 0 ? Infinity : 1) : usedUsd / monthlyUsd;
  // compared in micro-dollars: in floating point $0.04 of $0.05 is 0.7999…, not yet the 80 % warning
  const used = Math.round(usedUsd * 1e6);
  const budget = Math.round(monthlyUsd * 1e6);
  return {
    monthlyUsd,
    usedUsd,
    usedPercent: Number.isFinite(share) ? Math.round(share * 1000) / 10 : 100,
    state:
      used >= budget ? 'exhausted' : used >= Math.round(budget * BUDGET_WARNING_SHARE) ? 'warning' : 'ok',
  };
}

export interface SpendLine {
  category: string;
  count: number;
  usd: number;
}

export interface CostReport {
  month: string;
  prices: { version: string; sources: readonly string[] };
  x: {
    monthToDateUsd: number;
    projectedUsd: number;
    lines: SpendLine[];
    days: Array<{ day: string; usd: number }>;
  };
  aws: { monthToDateUsd: number; projectedUsd: number; model: typeof AWS_COST_MODEL };
  budget: BudgetStatus;
  plans: PlanAdvice;
}

const round4 = (usd: number) => Math.round(usd * 10_000) / 10_000;

function lines(counts: Record<string, number>, micros: (category: string) => number): SpendLine[] {
  return Object.entries(counts)
    .map(([category, count]) => ({ category, count, usd: toUsd(count * micros(category)) }))
    .sort((a, b) => b.usd - a.usd || a.category.localeCompare(b.category));
}

function awsSide(
  counts: Record<string, number>,
  at: Date,
  channels: number,
  pollIntervalSeconds: number | null,
) {
  const w = monthWindow(at);
  const monthSeconds = w.daysInMonth * 86_400;
  const pollsMonth = pollIntervalSeconds ? (monthSeconds / pollIntervalSeconds) * channels : 0;
  let inbound = 0;
  let outbound = 0;
  for (const [category, n] of Object.entries(counts)) {
    if (['post', 'postWithUrl', 'reply', 'dm'].includes(category)) outbound += n;
    else if (category !== 'userRead' && category !== 'follow') inbound += n;
  }
  const fixed = pollsMonth * AWS_COST_MODEL.usdPerPoll + channels * AWS_COST_MODEL.usdPerChannelSecretMonth;
  const messages =
    inbound * AWS_COST_MODEL.usdPerInboundMessage + outbound * AWS_COST_MODEL.usdPerOutboundCommand;
  return {
    monthToDateUsd: round4(fixed * w.elapsedShare + messages),
    projectedUsd: round4(fixed + projectMonth(messages, at)),
    model: AWS_COST_MODEL,
  };
}

/** Scales month-to-date counts to a whole month at the measured pace. */
function projectCounts(counts: Record<string, number>, at: Date): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round(projectMonth(v, at))]));
}

function unit(prices: XPriceTable) {
  return (category: string) =>
    category.startsWith('ev:')
      ? (prices.events[category.slice(3)] ?? 0)
      : ((prices.reads as Record<string, number>)[category] ??
        (prices.writes as Record<string, number>)[category] ??
        0);
}

/** A channel's cost report from its day counters of the month. */
export function channelCostReport(input: {
  days: SpendDay[];
  at: Date;
  prices: XPriceTable;
  budgetUsd?: number | null;
  /** The channel's steady poll interval (null when it is not polled). */
  pollIntervalSeconds: number | null;
}): CostReport {
  const { days, at, prices } = input;
  const { micros, counts } = sumDays(days);
  const mtd = toUsd(micros);
  return {
    month: monthWindow(at).month,
    prices: { version: prices.version, sources: prices.sources },
    x: {
      monthToDateUsd: round4(mtd),
      projectedUsd: round4(projectMonth(mtd, at)),
      lines: lines(counts, unit(prices)),
      days: days.map((d) => ({ day: d.day, usd: toUsd(d.micros) })),
    },
    aws: awsSide(counts, at, 1, input.pollIntervalSeconds),
    budget: budgetStatus(input.budgetUsd, round4(mtd)),
    plans: advisePlans(projectCounts(counts, at), prices),
  };
}

/** The app's cost report from its month counters. */
export function appCostReport(input: {
  month: SpendMonth;
  at: Date;
  prices: XPriceTable;
  budgetUsd?: number | null;
  channels: number;
  pollIntervalSeconds: number | null;
}): Omit<CostReport, 'x'> & { x: Omit<CostReport['x'], 'days'> } {
  const { month, at, prices } = input;
  const mtd = toUsd(month.micros);
  return {
    month: month.month,
    prices: { version: prices.version, sources: prices.sources },
    x: {
      monthToDateUsd: round4(mtd),
      projectedUsd: round4(projectMonth(mtd, at)),
      lines: lines(month.counts, unit(prices)),
    },
    aws: awsSide(month.counts, at, input.channels, input.pollIntervalSeconds),
    budget: budgetStatus(input.budgetUsd, round4(mtd)),
    plans: advisePlans(projectCounts(month.counts, at), prices),
  };
}
