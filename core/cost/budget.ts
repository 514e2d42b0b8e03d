/**
 * Monthly X budgets, per channel and for the app (issue 20): at 80 % a warning, at 100 % the channel
 * degrades deliberately and says so — outbound commands fail with `budget_exhausted` (not retryable until
 * the UTC month rolls or the budget rises; docs/result-codes.md). Never a silent stop: the state is on
 * `GET /channels/{id}/cost` and in the result's message.
 *
 * The sender's guard is cheap: it reads both budgets and both month totals in ONE request
 * ({@link BudgetSnapshotReader}, a `BatchGetItem`) at most once per `cacheMs` (30 s) per channel and
 * container, and adds what this container's own commands cost since (`spent`, from the meter's write).
 * Once the estimate is within the last `nearShare` (10 %) of a budget it re-reads before every command,
 * so the documented slack (docs/cost.md "Budgets") stays small: what the commands already past their
 * check when a budget is crossed cost, plus — outside the last 10 % — what other containers spend beyond
 * that 10 % within one cache period.
 */
import type { BudgetSnapshot, BudgetSnapshotReader } from './budget-floor';
import { utcMonth } from './meter';
import { budgetStatus, type BudgetStatus } from './report';
import { toUsd } from './prices';

/**
 * Budgets in USD per UTC month; null = none.
 *
 * @example
 * await budgets.set('ch_7k2m', 25);         // the channel's budget
 * await budgets.set(null, 500);             // the app's
 * await budgets.get('ch_7k2m');             // { channel: 25, app: 500 }
 */
export interface SpendBudgets {
  get(channelId: string | null): Promise<{ channel: number | null; app: number | null }>;
  set(channelId: string | null, monthlyBudgetUsd: number | null): Promise<void>;
}

export interface BudgetVerdict {
  channel: BudgetStatus;
  app: BudgetStatus;
  /** Set when either budget is used up: the words a result or the console shows. */
  exhausted: string | null;
}

export interface BudgetGuard {
  check(channelId: string, now: Date): Promise<BudgetVerdict>;
  /** What this container's commands for `channelId` cost since (µUSD, the meter's write): counted at once. */
  spent(channelId: string, micros: number, at: Date): void;
  /** Forgets cached answers (after a budget change in this container). */
  forget(channelId?: string): void;
}

/** A budget within its last `share` (or used up): the guard re-reads before every command. */
const near = (budgetUsd: number | null, micros: number, share: number) =>
  budgetUsd !== null && micros >= budgetUsd * 1_000_000 * (1 - share);

export function createBudgetGuard(deps: {
  read: BudgetSnapshotReader;
  cacheMs?: number;
  /** The last share of a budget in which every command re-reads (default 0.1). */
  nearShare?: number;
}): BudgetGuard {
  const cacheMs = deps.cacheMs ?? 30_000;
  const nearShare = deps.nearShare ?? 0.1;
  // per channel: the last read, and this container's spend since
  const cache = new Map<string, { at: number; month: string; snapshot: BudgetSnapshot; ownMicros: number }>();
  // the app's month total and budget from the newest read of any channel, and the spend since
  let app: { at: number; month: string; budgetUsd: number | null; micros: number; ownMicros: number } | null =
    null;
  return {
    async check(channelId, now) {
      const month = utcMonth(now);
      const t = now.getTime();
      const fresh = (at: number, m: string) => m === month && t >= at && t - at < cacheMs;
      let entry = cache.get(channelId);
      const channelMicros = () => entry!.snapshot.channelMicros + entry!.ownMicros;
      const appMicros = () => app!.micros + app!.ownMicros;
      const exhausted = () =>
        budgetStatus(entry!.snapshot.channelBudgetUsd, toUsd(channelMicros())).state === 'exhausted' ||
        budgetStatus(app!.budgetUsd, toUsd(appMicros())).state === 'exhausted';
      const stale =
        !entry ||
        !app ||
        !fresh(entry.at, entry.month) ||
        !fresh(app.at, app.month) ||
        // close to a budget (and not yet over it): every command re-reads
        (!exhausted() &&
          (near(entry.snapshot.channelBudgetUsd, channelMicros(), nearShare) ||
            near(app.budgetUsd, appMicros(), nearShare)));
      if (stale) {
        const snapshot = await deps.read(channelId, month);
        entry = { at: t, month, snapshot, ownMicros: 0 };
        cache.set(channelId, entry);
        if (cache.size > 10_000) cache.clear();
        app = { at: t, month, budgetUsd: snapshot.appBudgetUsd, micros: snapshot.appMicros, ownMicros: 0 };
      }
      // the app's budget as the newest read says: another channel's read may be newer than this one's
      const channel = budgetStatus(entry!.snapshot.channelBudgetUsd, toUsd(channelMicros()));
      const appStatus = budgetStatus(app!.budgetUsd, toUsd(appMicros()));
      const words =
        channel.state === 'exhausted'
          ? `the channel's monthly X budget ($${channel.monthlyUsd}) is used up for ${month}`
          : appStatus.state === 'exhausted'
            ? `the app's monthly X budget ($${appStatus.monthlyUsd}) is used up for ${month}`
            : null;
      return { channel, app: appStatus, exhausted: words };
    },
    spent(channelId, micros, at) {
      if (!(micros > 0)) return;
      const month = utcMonth(at);
      const entry = cache.get(channelId);
      if (entry && entry.month === month) entry.ownMicros += micros;
      if (app && app.month === month) app.ownMicros += micros;
    },
    forget(channelId) {
      if (channelId === undefined) {
        cache.clear();
        app = null;
      } else cache.delete(channelId);
    },
  };
}
