/**
 * The spend meter's scopes (lambdas/shared/spend.ts): every meter of a process shares one
 * AsyncLocalStorage (a storage per composition slowed every promise of a process that composes often),
 * and each meter still prices only into its own scopes — concurrent, nested, or beside another meter.
 */
import type { AwsClients } from '../../../adapters/aws/clients';
import type { PricedItem } from '../../../core/cost/billable';
import type { SpendLedger } from '../../../core/cost/meter';
import { composeSpendMeter } from '../../../lambdas/shared/spend';

function meter() {
  const written: Array<{ channelId: string; items: number }> = [];
  const ledger: SpendLedger = {
    async record(channelId: string, _at: Date, items: PricedItem[]) {
      written.push({ channelId, items: items.length });
      return { micros: 0, counted: items.length, duplicates: 0 };
    },
    days: async () => [],
    appMonth: async () => ({ month: '2026-09', micros: 0, items: {} }) as never,
  };
  const spend = composeSpendMeter({
    config: { TABLE_NAME: 'unused' },
    clients: {} as AwsClients,
    clock: { now: () => new Date(Date.UTC(2026, 8, 1)) },
    log: { warn: () => undefined },
    ledger,
  });
  return { spend, written };
}

/** One answered post: X bills one write. */
const post = (n: number) => ({
  method: 'POST',
  path: '/2/tweets',
  status: 201,
  requestBody: JSON.stringify({ text: `reply ${n}` }),
  data: { data: { id: String(1000 + n) } },
});
const tick = () => new Promise((r) => setImmediate(r));

describe('spend meter scopes', () => {
  it('a meter prices only into its own scope, not another meter’s', async () => {
    const a = meter();
    const b = meter();
    await a.spend.within('chA', async () => {
      a.spend.onResponse(post(1));
      b.spend.onResponse(post(2)); // b has no open scope: not counted anywhere
    });
    expect(a.written).toEqual([{ channelId: 'chA', items: 1 }]);
    expect(b.written).toEqual([]);
  });

  it('nested scopes of two meters each keep their own channel', async () => {
    const a = meter();
    const b = meter();
    await a.spend.within('chA', async () => {
      await b.spend.within('chB', async () => {
        await tick();
        a.spend.onResponse(post(1));
        b.spend.onResponse(post(2));
        b.spend.onResponse(post(3));
      });
      a.spend.onResponse(post(4));
    });
    expect(a.written).toEqual([{ channelId: 'chA', items: 2 }]);
    expect(b.written).toEqual([{ channelId: 'chB', items: 2 }]);
  });

  it('concurrent scopes of one meter (a batch’s records) stay apart across awaits', async () => {
    const a = meter();
    await Promise.all(
      ['ch1', 'ch2', 'ch3'].map((ch, i) =>
        a.spend.within(ch, async () => {
          for (let k = 0; k <= i; k++) {
            await tick();
            a.spend.onResponse(post(10 * i + k));
          }
        }),
      ),
    );
    expect(a.written.sort((x, y) => x.channelId.localeCompare(y.channelId))).toEqual([
      { channelId: 'ch1', items: 1 },
      { channelId: 'ch2', items: 2 },
      { channelId: 'ch3', items: 3 },
    ]);
  });

  it('outside any scope nothing is priced', async () => {
    const a = meter();
    a.spend.onResponse(post(1));
    await a.spend.within('chA', async () => undefined);
    expect(a.written).toEqual([]);
  });
});
