/**
 * A monthly X budget reached mid-run (issue 20 item 2), through the real sender handler, DynamoDB Local
 * and the simulated X: while the channel's metered spend is under its budget commands are sent; once it
 * is used up a command fails with `budget_exhausted` (not retryable, X not called); raising the budget
 * lets the next command through. The same for the app's budget.
 */
import { createDynamoSpendBudgets } from '../../../adapters/aws/dynamo-spend-budgets';
import { OUTBOUND_SCHEMA } from '../../../contracts';
import type { SimX } from '../../../sim/x/server';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { startTestSim } from '../sim-x/helpers';
import { connectChannel, startSenderHarness } from '../outbound/harness';

let aws: LocalAws;
let sim: SimX;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.stop();
});
beforeEach(async () => {
  sim = await startTestSim({ clock: { now: () => Date.now() } });
});
afterEach(async () => {
  await sim.stop();
});

it.each([['channel'], ['app']])(
  'a %s budget reached mid-run fails commands until it is raised',
  async (scope) => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const h = await startSenderHarness(aws, sim);
    const { channel } = await connectChannel(aws, sim, `shop${scope.slice(0, 2)}${Date.now() % 100000}`, {
      options: { allowPosts: true },
    } as never);
    const budgets = createDynamoSpendBudgets({ client: aws.clients.doc, tableName: aws.tableName });
    const target = scope === 'channel' ? channel.id : null;
    // the app's month counter already holds other tests' spend: its budget is set above what is there
    const base =
      scope === 'app'
        ? (await h.runtime.spend!.ledger.appMonth(new Date().toISOString().slice(0, 7))).micros / 1e6
        : 0;
    await budgets.set(target, base + 0.02);
    let n = 0;
    const post = async () => {
      const key = `k${n++}`;
      await h.send({
        schema: OUTBOUND_SCHEMA,
        idempotencyKey: key,
        channelId: channel.id,
        kind: 'post',
        text: `Update ${key} ${scope}`,
      });
      await h.drain();
      return (await h.results()).find((r) => r.idempotencyKey === key)!;
    };
    // $0.015 each: under the budget, then over it
    expect((await post()).status).toBe('sent');
    h.clock.advanceSeconds(31); // past the guard's 30 s cache
    expect((await post()).status).toBe('sent');
    h.clock.advanceSeconds(31);
    const refused = await post();
    expect(refused).toMatchObject({
      status: 'failed',
      error: { code: 'budget_exhausted', retryable: false },
    });
    expect(refused.status === 'failed' && refused.error.message).toMatch(
      scope === 'channel' ? /channel's monthly X budget/ : /app's monthly X budget/,
    );
    const posted = h.xRequests.filter((r) => r === 'POST /2/tweets').length;
    expect(posted).toBe(2);
    // raised: the next command goes through
    await budgets.set(target, base + 1);
    h.clock.advanceSeconds(31);
    expect((await post()).status).toBe('sent');
    await budgets.set(target, null);
  },
  120_000,
);

it('checks the budgets with one DynamoDB request per channel every 30 s, counted on the real client', async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const h = await startSenderHarness(aws, sim);
  const { channel } = await connectChannel(aws, sim, `cnt${Date.now() % 100000}`, {
    options: { allowPosts: true },
  } as never);
  const budgets = createDynamoSpendBudgets({ client: aws.clients.doc, tableName: aws.tableName });
  await budgets.set(channel.id, 100);
  const counts = new Map<string, number>();
  const name = 'count-budget-requests';
  aws.clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args.input ?? {}) as {
        RequestItems?: Record<string, { Keys?: unknown[] }>;
        KeyConditionExpression?: string;
      };
      const keys = Object.values(input.RequestItems ?? {})[0]?.Keys?.length ?? 0;
      const command = `${context.commandName}${keys === 19 ? ' (budget)' : ''}`;
      counts.set(command, (counts.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    for (let i = 0; i < 4; i++) {
      await h.send({
        schema: OUTBOUND_SCHEMA,
        idempotencyKey: `cnt${i}`,
        channelId: channel.id,
        kind: 'post',
        text: `Counted ${i}`,
      });
      await h.drain();
      h.clock.advanceSeconds(5);
    }
    expect((await h.results()).filter((r) => r.status === 'sent')).toHaveLength(4);
    // 4 commands in 20 s: one read of both budgets and month totals (was: 3 requests per 30 s)
    expect(counts.get('BatchGetItemCommand (budget)')).toBe(1);
    expect(counts.get('BatchGetItemCommand') ?? 0).toBe(0);
    expect(counts.get('QueryCommand') ?? 0).toBe(0);
    h.clock.advanceSeconds(31);
    await h.send({
      schema: OUTBOUND_SCHEMA,
      idempotencyKey: 'cnt-late',
      channelId: channel.id,
      kind: 'post',
      text: 'Counted later',
    });
    await h.drain();
    expect(counts.get('BatchGetItemCommand (budget)')).toBe(2);
  } finally {
    aws.clients.dynamodb.middlewareStack.remove(name);
    await budgets.set(channel.id, null);
  }
}, 120_000);
