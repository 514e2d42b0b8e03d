/**
 * What the spend meter costs a sender invocation in DynamoDB requests (issue 20: "≤ 1 extra request per
 * invocation"), counted by partition key on the real client (bench/dynamo-keys.ts) through the real
 * sender handler, DynamoDB Local, the SQS stand-in and the simulated X: a batch of commands of two
 * channels writes each command's X charge inside that command's completion — ONE `TransactWriteItems`
 * with its idempotency record — so no request writes spend items alone, each channel is charged its own
 * commands, and the meter equals the simulated X's bill (`GET /_sim/billing`) to the micro-dollar. The
 * ride's edge on the adapter: a completion that is refused (another delivery holds the record) writes
 * alone, and the meter writes the charge itself at the end of the command, once; the sender's budget
 * guard is told either way (`onRecorded`).
 */
import { createDynamoIdempotencyStore } from '../../../adapters/aws/dynamo-idempotency';
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { OUTBOUND_SCHEMA, type ResultMessage } from '../../../contracts';
import { sumDays, utcMonth } from '../../../core/cost/meter';
import { X_PRICES } from '../../../core/cost/prices';
import { composeSpendMeter } from '../../../lambdas/shared/spend';
import { isMeterOnly } from '../../../bench/dynamo-keys';
import { countDynamoRequests } from '../../helpers/dynamo-requests';
import { connectChannel, useSenderWorld } from '../outbound/harness';
import { control } from '../sim-x/helpers';

const world = useSenderWorld();

const isWrite = (command: string) => /^(Put|Update|Delete|BatchWrite|TransactWrite)Item/.test(command);

it('one invocation with commands of two channels: no DynamoDB request of the meter alone, to the cent of X', async () => {
  const { aws, sim, h } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const suffix = `${Date.now() % 100_000}`;
  const a = await connectChannel(aws, sim, `shopa${suffix}`);
  const b = await connectChannel(aws, sim, `shopb${suffix}`);
  const customer = sim.createUser({ username: `cust${suffix}`, name: 'Customer' }).id;
  const mention = (to: string) => sim.createTweet({ authorId: customer, text: `@${to} help` }).id;
  let n = 0;
  const reply = (channelId: string, to: string) => ({
    schema: OUTBOUND_SCHEMA,
    idempotencyKey: `sm-${suffix}-${n++}`,
    channelId,
    kind: 'reply',
    targetId: mention(to),
    text: `On it ${n}`,
  });
  const dm = (channelId: string) => ({
    schema: OUTBOUND_SCHEMA,
    idempotencyKey: `sm-${suffix}-${n++}`,
    channelId,
    kind: 'dm',
    targetId: customer,
    text: `Following up ${n}`,
  });
  // warm: the budget guard has read both channels' budgets (once per 30 s), the tokens are cached
  await h.send(reply(a.channel.id, `shopa${suffix}`));
  await h.send(reply(b.channel.id, `shopb${suffix}`));
  await h.drain();
  expect((await h.results()).filter((r) => r.status === 'sent')).toHaveLength(2);

  const month = utcMonth(h.clock.now());
  const ledger = createDynamoSpendLedger({ client: aws.clients.doc, tableName: aws.tableName });
  const meteredOf = async (id: string) => sumDays(await ledger.days(id, month));
  const before = { a: await meteredOf(a.channel.id), b: await meteredOf(b.channel.id) };
  const billBefore = (await control(sim, 'GET', '/_sim/billing')).body.costUsd as number;

  // channel A: 3 replies; channel B: 1 reply and 2 DMs — each in a message group of its own
  const commands = [
    reply(a.channel.id, `shopa${suffix}`),
    reply(b.channel.id, `shopb${suffix}`),
    reply(a.channel.id, `shopa${suffix}`),
    dm(b.channel.id),
    reply(a.channel.id, `shopa${suffix}`),
    dm(b.channel.id),
  ];
  for (const c of commands) await h.send(c, c.idempotencyKey);
  const { result: batch, seen } = await countDynamoRequests(aws.clients.dynamodb, () => h.deliverOnce());
  expect(batch).toBe(commands.length); // one sender invocation
  const results: ResultMessage[] = await h.results();
  expect(results.map((r) => r.status)).toEqual(commands.map(() => 'sent'));

  const meterOnly = seen.filter((r) => isMeterOnly(r.keys));
  const joint = (id: string) =>
    seen.filter(
      (r) =>
        r.command === 'TransactWriteItemsCommand' &&
        r.keys[0] === `CH#${id}` &&
        r.keys.includes(`COST#${id}`) &&
        r.keys.every((k) => k === `CH#${id}` || k === `COST#${id}` || k.startsWith('COSTAPP#')),
    );
  // the bound, and better: every charge rode on its command's completion
  expect(meterOnly.length).toBeLessThanOrEqual(1);
  expect(meterOnly.filter((r) => isWrite(r.command))).toEqual([]);
  expect(joint(a.channel.id)).toHaveLength(3);
  expect(joint(b.channel.id)).toHaveLength(3);

  // each channel is charged its own commands, and the meter is X's bill to the micro-dollar
  const after = { a: await meteredOf(a.channel.id), b: await meteredOf(b.channel.id) };
  const delta = (x: typeof after.a, y: typeof before.a) => ({
    micros: x.micros - y.micros,
    counts: Object.fromEntries(Object.entries(x.counts).map(([k, v]) => [k, v - (y.counts[k] ?? 0)])),
  });
  const { reply: replyUsd, dm: dmUsd } = X_PRICES.writes;
  expect(delta(after.a, before.a)).toEqual({ micros: 3 * replyUsd, counts: { reply: 3 } });
  expect(delta(after.b, before.b)).toEqual({ micros: replyUsd + 2 * dmUsd, counts: { reply: 1, dm: 2 } });
  const billUsd = (await control(sim, 'GET', '/_sim/billing')).body.costUsd as number;
  const billed = Math.round((billUsd - billBefore) * 1_000_000);
  expect(after.a.micros - before.a.micros + after.b.micros - before.b.micros).toBe(billed);
  console.log(
    JSON.stringify({ commands: batch, meterOnly: meterOnly.length, requests: seen.length, billed }),
  );
}, 120_000);

it('a refused completion writes alone, and the meter writes the charge itself at the end, once', async () => {
  const { aws } = world;
  const channelId = `ch_ridesend${Math.random().toString(36).slice(2, 10)}`;
  // what the sender's budget guard is told (lambdas/sender/compose.ts)
  const told: Array<[string, number]> = [];
  const meter = composeSpendMeter({
    config: { TABLE_NAME: aws.tableName },
    clients: aws.clients,
    clock: { now: () => new Date() },
    log: { warn: () => undefined },
    onRecorded: (id, recorded) => told.push([id, recorded.micros]),
  });
  const store = createDynamoIdempotencyStore({
    client: aws.clients.doc,
    tableName: aws.tableName,
    ride: (c, room) => meter.ride(c, room),
  });
  const claim = {
    bodyHash: 'h1',
    owner: 'attempt-1',
    leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
    attemptStartedAt: new Date().toISOString(),
    uncertain: false,
  };
  expect((await store.claim(channelId, 'k1', claim, null)).ok).toBe(true);
  const result = {
    schema: 'x-channel.result.v1',
    idempotencyKey: 'k1',
    channelId,
    status: 'sent',
    xId: '1990',
    at: new Date().toISOString(),
  } as unknown as ResultMessage;
  const replied = () =>
    meter.onResponse({
      method: 'POST',
      path: '/2/tweets',
      status: 201,
      data: { data: { id: '1990', text: 'ok' } },
      requestBody: JSON.stringify({ text: 'ok', reply: { in_reply_to_tweet_id: '17' } }),
    });
  // not the holder: the joint write is refused, the plain update answers with the holder
  const { result: refused, seen } = await countDynamoRequests(aws.clients.dynamodb, () =>
    meter.within(channelId, async () => {
      replied();
      return store.complete(channelId, 'k1', 'attempt-2', result);
    }),
  );
  expect(refused).toMatchObject({ ok: false, current: { owner: 'attempt-1', state: 'in_progress' } });
  expect(seen.map((r) => r.command)).toEqual([
    'TransactWriteItemsCommand', // the completion with the charge: refused as a whole
    'UpdateItemCommand', // the completion alone: refused, with the holder
    'TransactWriteItemsCommand', // the meter's own write at the end of the command
  ]);
  expect(isMeterOnly(seen[2].keys)).toBe(true);
  expect(told).toEqual([[channelId, X_PRICES.writes.reply]]);
  // the holder completes: its charge rides, and the first one is not counted again
  await meter.within(channelId, async () => {
    replied();
    expect(await store.complete(channelId, 'k1', 'attempt-1', result)).toEqual({ ok: true });
    // told at the completion, not at the end of the command
    expect(told).toHaveLength(2);
  });
  expect(told).toEqual([
    [channelId, X_PRICES.writes.reply],
    [channelId, X_PRICES.writes.reply],
  ]);
  const month = utcMonth(new Date());
  expect(sumDays(await meter.ledger.days(channelId, month))).toEqual({
    micros: 2 * X_PRICES.writes.reply,
    counts: { reply: 2 },
  });
  expect((await store.get(channelId, 'k1'))?.state).toBe('completed');
});
