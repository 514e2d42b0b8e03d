/**
 * Monthly X budgets, per channel and for the app (issue 20): at 80 % a warning, at 100 % the channel
 * degrades deliberately and says so — outbound commands fail with `budget_exhausted` (not retryable until
 * the UTC month rolls or the budget rises; docs/result-codes.md). Never a silent stop: the state is on
 * `GET /channels/{id}/cost` and in the result's message.
 *
 * The guard reads the month's spend and the budgets at most once per `cacheMs` per channel and container
 * (a send must not cost a read each), so a budget is enforced within that delay and within the spend of
 * the commands already under way.
 */
import { sumDays, utcMonth, type SpendLedger } from './meter';
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
  /** Forgets cached answers (after a budget change in this container). */
  forget(channelId?: string): void;
}

export function createBudgetGuard(deps: {
  ledger: SpendLedger;
  budgets: SpendBudgets;
  cacheMs?: number;
}): BudgetGuard {
  const cacheMs = deps.cacheMs ?? 30_000;
  const cache = new Map<string, { at: number; verdict: BudgetVerdict }>();
  return {
    async check(channelId, now) {
      const hit = cache.get(channelId);
      if (hit && now.getTime() - hit.at < cacheMs && now.getTime() >= hit.at) return hit.verdict;
      const month = utcMonth(now);
      const budgets = await deps.budgets.get(channelId);
      const none = budgets.channel === null && budgets.app === null;
      const [days, app] = none
        ? [[], { micros: 0 }]
        : await Promise.all([
            budgets.channel === null ? Promise.resolve([]) : deps.ledger.days(channelId, month),
            budgets.app === null ? Promise.resolve({ micros: 0 }) : deps.ledger.appMonth(month),
          ]);
      const channel = budgetStatus(budgets.channel, toUsd(sumDays(days).micros));
      const appStatus = budgetStatus(budgets.app, toUsd(app.micros));
      const exhausted =
        channel.state === 'exhausted'
          ? `the channel's monthly X budget ($${channel.monthlyUsd}) is used up for ${month}`
          : appStatus.state === 'exhausted'
            ? `the app's monthly X budget ($${appStatus.monthlyUsd}) is used up for ${month}`
            : null;
      const verdict = { channel, app: appStatus, exhausted };
      cache.set(channelId, { at: now.getTime(), verdict });
      return verdict;
    },
    forget(channelId) {
      if (channelId === undefined) cache.clear();
      else cache.delete(channelId);
    },
  };
}
