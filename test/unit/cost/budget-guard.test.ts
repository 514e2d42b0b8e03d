/**
 * The sender's budget guard (core/cost/budget.ts): one read of the budgets and month totals per channel
 * every 30 s, its own commands' spend added at once, every command re-reading within the last 10 % of a
 * budget — and the documented slack: with several containers sending at once a budget is overrun by at
 * most the commands already past their check.
 */
import type { BudgetSnapshot } from '../../../core/cost/budget-floor';
import { createBudgetGuard } from '../../../core/cost/budget';

/** Budgets and spend as DynamoDB would hold them, read through a counting reader. */
function world(budget: { channel?: number; app?: number }, spentUsd = 0) {
  const state = { micros: Math.round(spentUsd * 1e6), reads: 0 };
  const read = async (): Promise<BudgetSnapshot> => {
    state.reads++;
    return {
      channelBudgetUsd: budget.channel ?? null,
      appBudgetUsd: budget.app ?? null,
      channelMicros: state.micros,
      appMicros: state.micros,
    };
  };
  return { state, read };
}

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, s));

it('reads once per channel every 30 s while far from the budget', async () => {
  const w = world({ channel: 100, app: 1000 }, 10);
  const guard = createBudgetGuard({ read: w.read });
  for (let s = 0; s < 30; s += 3) expect((await guard.check('ch_a', at(s))).exhausted).toBeNull();
  expect(w.state.reads).toBe(1);
  await guard.check('ch_a', at(31));
  expect(w.state.reads).toBe(2);
  await guard.check('ch_b', at(31));
  expect(w.state.reads).toBe(3);
});

it("adds the container's own spend at once: a budget it used up refuses the next command without a read", async () => {
  const w = world({ channel: 1 }, 0.5);
  const guard = createBudgetGuard({ read: w.read });
  expect((await guard.check('ch_a', at(0))).channel.state).toBe('ok');
  guard.spent('ch_a', 600_000, at(1));
  const verdict = await guard.check('ch_a', at(2));
  expect(verdict.exhausted).toMatch(/channel's monthly X budget \(\$1\) is used up for 2026-12/);
  expect(w.state.reads).toBe(1);
  // used up is cached too (refusing costs X nothing); a new read after 30 s sees a raised budget
  await guard.check('ch_a', at(20));
  expect(w.state.reads).toBe(1);
});

it('re-reads before every command within the last 10 % of a budget (channel or app)', async () => {
  for (const budget of [{ channel: 1 }, { app: 1 }]) {
    const w = world(budget, 0.92);
    const guard = createBudgetGuard({ read: w.read });
    for (let s = 0; s < 5; s++) expect((await guard.check('ch_a', at(s))).exhausted).toBeNull();
    expect(w.state.reads).toBe(5);
  }
});

it('a new UTC month reads again at once', async () => {
  const w = world({ channel: 1 }, 0.1);
  const guard = createBudgetGuard({ read: w.read });
  await guard.check('ch_a', new Date('2026-11-30T23:59:50Z'));
  await guard.check('ch_a', new Date('2026-12-01T00:00:05Z'));
  expect(w.state.reads).toBe(2);
});

/**
 * Five containers sending for five channels against one app budget; each round (a second) every
 * container checks, then what passed is sent and metered. Returns the spend at the end and the reads.
 */
async function race(budgetUsd: number, priceUsd: number, everySeconds: number) {
  const w = world({ app: budgetUsd }, 0);
  const guards = Array.from({ length: 5 }, () => createBudgetGuard({ read: w.read }));
  const price = Math.round(priceUsd * 1e6);
  for (let s = 0; s < 3600; s++) {
    if (s % everySeconds) continue;
    const passed = [];
    for (const [i, g] of guards.entries())
      if ((await g.check(`ch_${i}`, at(s))).exhausted === null) passed.push(i);
    if (!passed.length) break;
    // in flight meanwhile: what the others' checks cannot see yet
    for (const i of passed) {
      w.state.micros += price;
      guards[i].spent(`ch_${i}`, price, at(s));
    }
  }
  return { usd: w.state.micros / 1e6, reads: w.state.reads };
}

it('the slack: when others spend under 10 % of the budget in 30 s, at most the commands in flight', async () => {
  // 5 × a $0.01 reply every 2 s = $0.75 in 30 s, under 10 % of $10
  const out = await race(10, 0.01, 2);
  expect(out.usd).toBeGreaterThanOrEqual(10);
  expect(out.usd).toBeLessThanOrEqual(10 + 5 * 0.01 + 1e-9);
  // far from the budget ($0 to $9 in 360 s) one read per container per 30 s; within its last 10 % ($1,
  // 100 replies) one read per command
  expect(out.reads).toBeLessThanOrEqual(5 * (360 / 30 + 1) + 100 + 5);
});

it('the slack: faster than that, what the others spend in 30 s beyond the last 10 %, plus the commands in flight', async () => {
  // 5 × a $0.20 post with a URL every second: $30 in 30 s against a $5 budget
  const out = await race(5, 0.2, 1);
  const othersIn30s = 4 * 0.2 * 30;
  expect(out.usd).toBeGreaterThanOrEqual(5);
  expect(out.usd).toBeLessThanOrEqual(5 + 5 * 0.2 + Math.max(0, othersIn30s - 0.1 * 5) + 1e-9);
});
