/**
 * What the spend meter costs a busy channel's poll in DynamoDB requests, counted on the real client
 * against DynamoDB Local through the real dispatcher and poller handlers (issue 20: "cheap writes;
 * batched with the writes a poll already makes"): every poll that X billed writes its charges in the
 * poll's own final write — ONE `TransactWriteItems` with the channel item — so no request writes spend
 * counters alone, and the meter still equals the simulated X's bill to the micro-dollar. The ride's
 * edges on the adapters: resources another container billed today are dropped from the joint write
 * (counted once), and a final write that is refused leaves the charges to the meter's own write.
 */
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoPollState } from '../../../adapters/aws/dynamo-poll-state';
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { priceItem } from '../../../core/cost/billable';
import { sumDays, utcMonth } from '../../../core/cost/meter';
import { X_PRICES } from '../../../core/cost/prices';
import { composeSpendMeter } from '../../../lambdas/shared/spend';
import { isMeterOnly } from '../../../bench/dynamo-keys';
import { countDynamoRequests } from '../../helpers/dynamo-requests';
import { FakeClock, makeChannel } from '../../helpers/fakes';
import { connectChannel, startInboundHarness, useInboundWorld } from '../inbound/harness';

const world = useInboundWorld();

it('meters a busy channel in the writes its polls already make: no DynamoDB request of its own, to the cent of X', async () => {
  const { aws, sim } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const suffix = `${Date.now() % 100_000}`;
  const c = await connectChannel(aws, sim, `busy${suffix}`);
  await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).claimAccount(
    c.accountId,
    c.channel.id,
  );
  const h = await startInboundHarness(aws, sim);
  const customers = Array.from(
    { length: 3 },
    (_, i) => sim.createUser({ username: `cust${i}${suffix}`, name: `Customer ${i}` }).id,
  );
  await h.tick(); // the first poll: checkpoints and the budget's first verdict
  const month = utcMonth(new Date(sim.now()));
  const ledger = createDynamoSpendLedger({ client: aws.clients.doc, tableName: aws.tableName });
  const meteredBefore = sumDays(await ledger.days(c.channel.id, month)).micros;
  const billBefore = sim.billing().costUsd;

  let polls = 0;
  let delivered = 0;
  const { seen: requests } = await countDynamoRequests(aws.clients.dynamodb, async () => {
    for (let step = 0; step < 16; step++) {
      // busy: three new mentions before every poll, a DM now and then (DM pages are re-read: X bills
      // an event once a UTC day, so a re-read costs nothing and writes no counter)
      for (let i = 0; i < 3; i++)
        sim.createTweet({ authorId: customers[i], text: `@busy${suffix} order ${step}-${i}` });
      if (step % 3 === 0)
        sim.sendDm({ senderId: customers[step % 3], recipientId: c.accountId, text: `dm ${step}` });
      world.clock.advance(61_000);
      polls += (await h.tick()).jobs;
      delivered += (await h.drainInbound()).length;
    }
  });

  const writes = requests.filter((r) =>
    /^(Put|Update|Delete|BatchWrite|TransactWrite)Item/.test(r.command.replace('Items', 'Item')),
  );
  // the meter's own requests: writes touching only spend items (counters, billed-today markers)
  const meterOnly = writes.filter((r) => isMeterOnly(r.keys));
  // the poll's final write carrying the meter: channel item + the channel's day counter in one request
  const channelKey = `CH#${c.channel.id}`;
  const joint = writes.filter(
    (r) =>
      r.command === 'TransactWriteItemsCommand' &&
      r.keys[0] === channelKey &&
      r.keys.includes(`COST#${c.channel.id}`),
  );
  const finals = writes.filter((r) => r.keys[0] === channelKey && r.command !== 'TransactWriteItemsCommand');
  const budgetReads = requests.filter((r) => r.command === 'BatchGetItemCommand' && r.keys.length === 19);
  const perPoll = (n: number) => Math.round((n / polls) * 100) / 100;
  const summary = {
    polls,
    delivered,
    requestsPerPoll: perPoll(requests.length),
    meterOnlyPerPoll: perPoll(meterOnly.length),
    jointFinalWrites: joint.length,
    budgetReadsPerPoll: perPoll(budgetReads.length),
  };
  expect(polls).toBeGreaterThanOrEqual(15);
  expect(delivered).toBeGreaterThanOrEqual(48);
  // every poll X billed (each read new mentions) wrote its charges with its own final write
  expect(meterOnly).toEqual([]);
  expect(joint.length).toBeGreaterThanOrEqual(polls);
  // the channel item is written twice a poll (the claim and the final write), never a third time
  expect(finals.length + joint.length).toBeLessThanOrEqual(2 * polls);
  expect(summary.meterOnlyPerPoll).toBe(0);
  expect(summary.budgetReadsPerPoll).toBeLessThanOrEqual(0.25);

  // and the meter is still X's bill, to the micro-dollar
  const metered = sumDays(await ledger.days(c.channel.id, month)).micros - meteredBefore;
  const billed = Math.round((sim.billing().costUsd - billBefore) * 1_000_000);
  expect(billed).toBeGreaterThan(0);
  expect(metered).toBe(billed);
  console.log(JSON.stringify(summary));
}, 180_000);

describe('the final write with the meter riding on it (DynamoDB Local)', () => {
  const counted = <T>(work: () => Promise<T>) => countDynamoRequests(world.aws.clients.dynamodb, work);
  const reads = (ids: string[]) =>
    ids.map((id) => priceItem({ type: 'read', kind: 'postRead', id }, X_PRICES));
  async function claimed(clock: FakeClock) {
    const { aws } = world;
    const id = `ch_ride${Math.random().toString(36).slice(2, 10)}`;
    const options = { client: aws.clients.doc, tableName: aws.tableName, clock };
    await createDynamoChannelStore(options).create(makeChannel({ id }));
    clock.advanceMs(5_000);
    const meter = composeSpendMeter({
      config: { TABLE_NAME: aws.tableName },
      clients: aws.clients,
      clock,
      log: { warn: () => undefined },
    });
    const state = createDynamoPollState({ ...options, ride: (c, room) => meter.ride(c, room) });
    const seenDueAt = (await state.peekDue(id))!.dueAt!;
    const claim = await state.claimPoll(id, {
      owner: 'job-1',
      seenDueAt,
      leaseUntil: new Date(clock.now().getTime() + 120_000).toISOString(),
    });
    expect('channel' in claim).toBe(true);
    return { id, state, meter };
  }
  const finish = (owner: string) => ({
    owner,
    expected: makeChannel().checkpoints,
    health: { lastPollAt: '2026-09-01T10:00:05.000Z' },
    nextPollAt: '2026-09-01T10:01:05.000Z',
  });

  it('drops what another container billed today and counts the rest once, in the joint write', async () => {
    const clock = new FakeClock('2026-09-01T10:00:00Z');
    const { id, state, meter } = await claimed(clock);
    // another container (its own ledger and memory) billed post 1 today already
    const other = createDynamoSpendLedger({ client: world.aws.clients.doc, tableName: world.aws.tableName });
    await other.record('ch_elsewhere', clock.now(), reads(['771']));
    const { result: recorded, seen } = await counted(() =>
      meter.within(id, async () => {
        meter.onResponse({
          method: 'GET',
          path: '/2/users/1/mentions',
          status: 200,
          data: { data: [{ id: '771' }, { id: '772' }, { id: '773' }] },
        });
        await state.finishPoll(id, finish('job-1'));
        return 'done';
      }),
    );
    expect(recorded).toBe('done');
    // refused once for the marker another container wrote, then sent again without it: nothing else
    expect(seen.map((r) => r.command)).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(seen[1].keys[0]).toBe(`CH#${id}`);
    expect(seen[1].keys.filter((k) => k.startsWith('SEEN#'))).toHaveLength(2);
    const days = await meter.ledger.days(id, '2026-09');
    expect(sumDays(days)).toEqual({ micros: 10_000, counts: { postRead: 2 } });
    expect((await state.peekDue(id))?.owner).toBeNull(); // the claim ended in the same write
  });

  it('a refused final write writes alone, and the meter writes its charges itself at the end', async () => {
    const clock = new FakeClock('2026-09-01T10:00:00Z');
    const { id, state, meter } = await claimed(clock);
    await meter.within(id, async () => {
      meter.onResponse({
        method: 'GET',
        path: '/2/users/1/mentions',
        status: 200,
        data: { data: [{ id: '881' }] },
      });
      // not the claim's holder: the joint write is refused, the plain path decides (the claim stays)
      await state.finishPoll(id, finish('job-2'));
    });
    expect(sumDays(await meter.ledger.days(id, '2026-09'))).toEqual({
      micros: 5_000,
      counts: { postRead: 1 },
    });
    expect((await state.peekDue(id))?.owner).toBe('job-1');
  });
});
