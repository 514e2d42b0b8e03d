/**
 * Inbound at a spent budget (issue 20 item 2): when a channel's (or the app's) monthly X budget is used
 * up, reconciliation polling slows to a floor — by default one mention poll an hour and one DM poll a day
 * — while real time (X Activity API deliveries, cheaper than polling) stays on; at 80 % a warning. Never a
 * silent stop: the state and its reason code are on the channel's health (`health.budget`).
 *
 * Cost: the poller learns the state from the channel item its claim already returns (`health.budget`, the
 * previous poll's verdict), and re-reads the budgets and month spend — ONE DynamoDB `BatchGetItem`
 * ({@link BudgetSnapshotReader}) — only when that verdict is older than `checkSeconds` (default 5 min),
 * from another month, or `exhausted` (then every poll re-checks, and polls are at the floor). The new
 * verdict rides on the poll's one final write. A budget raised through the admin API makes the channel
 * due at once, so it recovers at the next dispatcher tick, not after the floor's hour.
 */
import type { PollIntervals } from '../inbound/planner';
import { utcMonth } from './meter';
import { toUsd } from './prices';
import { budgetStatus, type BudgetState, type BudgetStatus } from './report';

/** The slowest reconciliation cadence while a budget is used up. */
export interface BudgetFloor {
  mentionsSeconds: number;
  dmsSeconds: number;
}

export const DEFAULT_BUDGET_FLOOR: BudgetFloor = { mentionsSeconds: 3600, dmsSeconds: 86_400 };
/** How old a stored `ok`/`warning` verdict may get before a poll re-reads the budget. */
export const DEFAULT_BUDGET_CHECK_SECONDS = 300;

/** What one read of the budgets and the month's spend gives (µUSD). */
export interface BudgetSnapshot {
  channelBudgetUsd: number | null;
  appBudgetUsd: number | null;
  channelMicros: number;
  appMicros: number;
}

/** Budgets and month spend of a channel and the app in one request. */
export type BudgetSnapshotReader = (channelId: string, month: string) => Promise<BudgetSnapshot>;

export type BudgetReasonCode = 'budget_warning' | 'budget_exhausted';

/** The budget's state on a channel's health (`health.budget`), as the last poll that checked it saw it. */
export interface BudgetHealth {
  state: BudgetState;
  /** `budget_warning` from 80 %, `budget_exhausted` at 100 % of either budget; null otherwise. */
  reasonCode: BudgetReasonCode | null;
  /** Which budget decided: the channel's or the app's. */
  scope: 'channel' | 'app' | null;
  /** The state in words (console, logs). */
  reason: string | null;
  month: string;
  checkedAt: string;
  channel: BudgetStatus;
  app: BudgetStatus;
  /** Exhausted: the reconciliation cadence in force. */
  floor: BudgetFloor | null;
  /** Exhausted: the `notBefore` the floor set per endpoint (lifted when the budget recovers). */
  floorUntil?: Record<string, string>;
}

const RANK: Record<BudgetState, number> = { none: 0, ok: 1, warning: 2, exhausted: 3 };

const hours = (s: number) => (s % 3600 === 0 ? `${s / 3600} h` : `${Math.round(s / 60)} min`);

/** The verdict of a snapshot at `now`. */
export function budgetHealthOf(snapshot: BudgetSnapshot, now: Date, floor: BudgetFloor): BudgetHealth {
  const channel = budgetStatus(snapshot.channelBudgetUsd, toUsd(snapshot.channelMicros));
  const app = budgetStatus(snapshot.appBudgetUsd, toUsd(snapshot.appMicros));
  const worst = RANK[app.state] > RANK[channel.state] ? 'app' : 'channel';
  const status = worst === 'app' ? app : channel;
  const month = utcMonth(now);
  const whose = worst === 'app' ? "the app's" : "the channel's";
  const base = {
    month,
    checkedAt: now.toISOString(),
    channel,
    app,
    state: status.state,
  };
  if (status.state === 'exhausted')
    return {
      ...base,
      reasonCode: 'budget_exhausted',
      scope: worst,
      reason: `${whose} monthly X budget ($${status.monthlyUsd}) is used up for ${month}: reconciliation polls slowed to one mention poll every ${hours(floor.mentionsSeconds)} and one DM poll every ${hours(floor.dmsSeconds)}, real time stays on, outbound commands fail with budget_exhausted`,
      floor,
    };
  if (status.state === 'warning')
    return {
      ...base,
      reasonCode: 'budget_warning',
      scope: worst,
      reason: `${status.usedPercent} % of ${whose} monthly X budget ($${status.monthlyUsd}) used for ${month}`,
      floor: null,
    };
  return { ...base, reasonCode: null, scope: null, reason: null, floor: null };
}

/** Whether a poll at `now` must re-read the budget (see the header). */
export function needsBudgetCheck(
  stored: BudgetHealth | null | undefined,
  now: Date,
  checkSeconds: number,
): boolean {
  if (!stored?.checkedAt) return true;
  if (stored.month !== utcMonth(now) || stored.state === 'exhausted') return true;
  const at = Date.parse(stored.checkedAt);
  // a verdict from the future (clock skew) is not trusted either
  return !(at <= now.getTime()) || now.getTime() - at >= checkSeconds * 1000;
}

/** The poll intervals at the floor while the budget is used up; unchanged otherwise. */
export function withBudgetFloor(
  intervals: PollIntervals,
  budget: Pick<BudgetHealth, 'state'> | null | undefined,
  floor: BudgetFloor,
): PollIntervals {
  if (budget?.state !== 'exhausted') return intervals;
  const slow = (s: number | null, f: number) => (s === null ? null : Math.max(s, f));
  return {
    mentionsSeconds: slow(intervals.mentionsSeconds, floor.mentionsSeconds),
    dmsSeconds: slow(intervals.dmsSeconds, floor.dmsSeconds),
  };
}
