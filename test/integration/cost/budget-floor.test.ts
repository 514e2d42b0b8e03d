/**
 * A monthly X budget reached mid-run degrades the channel on purpose and says so (issue 20 item 2), through
 * the real dispatcher, poller and sender handlers, the admin API handler, DynamoDB Local, SQS and the
 * simulated X: the metered spend crosses 80 % (health `budget_warning`) and 100 % (`budget_exhausted`);
 * mention polls then run at the floor (one an hour) and DM polls once a day, outbound commands fail with
 * `budget_exhausted`; raising the budget through `PATCH /channels/{id}` makes the channel due at once,
 * its next poll lifts the floor and reads the mentions that waited, and commands are sent again.
 */
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createApp as createApiApp } from '../../../lambdas/api/app';
import { compose as composeApi } from '../../../lambdas/api/compose';
import { loadConfig as loadApiConfig } from '../../../lambdas/api/config';
import { createLogger } from '../../../lambdas/shared/logger';
import { DM_EVENTS_ENDPOINT, MENTIONS_ENDPOINT } from '../../../core/inbound/planner';
import { call, type ApiFn } from '../../unit/api/events';
import { clockOf, connectChannel, startInboundHarness, useInboundWorld } from '../inbound/harness';
import { startSenderHarness } from '../outbound/harness';

const world = useInboundWorld();

it('a budget reached mid-run slows polling to the floor, refuses commands, and recovers when raised', async () => {
  const { aws, sim } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const suffix = `${Date.now() % 100_000}`;
  // an id the admin API accepts (ch_ + 20 base32 characters)
  const channelId = `ch_${Array.from({ length: 20 }, () => 'abcdefghijklmnopqrstuvwxyz234567'[Math.floor(Math.random() * 32)]).join('')}`;
  const c = await connectChannel(aws, sim, `floor${suffix}`, { id: channelId });
  expect(c.channel.id).toBe(channelId);
  const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
  await store.claimAccount(c.accountId, c.channel.id);
  // every poll re-checks the budget here (30 s < the 61 s between ticks), so each step is seen at once
  const h = await startInboundHarness(aws, sim, { env: { BUDGET_CHECK_SECONDS: '30' } });
  const sender = await startSenderHarness(aws, sim, { clock: clockOf(sim) });
  const api: ApiFn = createApiApp(
    composeApi(
      loadApiConfig({
        AWS_REGION: aws.region,
        TABLE_NAME: aws.tableName,
        XC_DYNAMODB_ENDPOINT: aws.endpoints.dynamodb,
        XC_SECRETS_ENDPOINT: aws.endpoints.secretsManager,
        XC_SQS_ENDPOINT: aws.endpoints.sqs,
        X_API_BASE_URL: sim.url,
        X_APP_SECRET_ID: 'x-channel/app',
        TOKEN_SECRET_PREFIX: 'x-channel/tokens/',
        LOG_LEVEL: 'ERROR',
      }),
      { clients: aws.clients, clock: clockOf(sim), logger: createLogger({ logLevel: 'ERROR' }) },
    ),
  );
  const id = c.channel.id;
  const health = async () => (await call(api, { method: 'GET', path: `/channels/${id}/health` })).body;
  const mentionReads = () => sim.state.requests[MENTIONS_ENDPOINT] ?? 0;
  const customer = sim.createUser({ username: `cust${suffix}`, name: 'Customer' }).id;
  const mention = (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push(sim.createTweet({ authorId: customer, text: `@floor${suffix} help ${i}` }).id);
    return ids;
  };
  const step = async () => {
    world.clock.advance(61_000);
    await h.tick();
  };
  let commands = 0;
  const reply = async (targetId: string) => {
    const key = `k${commands++}`;
    await sender.send({
      schema: 'x-channel.outbound.v1',
      idempotencyKey: key,
      channelId: id,
      kind: 'reply',
      targetId,
      text: `On it (${key})`,
    });
    await sender.drain();
    return (await sender.results()).find((r) => r.idempotencyKey === key)!;
  };

  // $0.05 a month for this channel: 10 post reads at $0.005
  const set = await call(api, { method: 'PATCH', path: `/channels/${id}`, body: { monthlyBudgetUsd: 0.05 } });
  expect(set.status).toBe(200);
  await h.tick();
  expect((await health()).budget).toMatchObject({ state: 'ok', reasonCode: null });
  expect((await health()).costUrl).toBe(`/channels/${id}/cost`);

  // 8 post reads: $0.04 = 80 %, a warning; polling goes on at the plan's cadence
  const first = mention(8);
  await step(); // reads them (metered at the end of the poll)
  await step(); // re-checks: 80 %
  expect((await health()).budget).toMatchObject({
    state: 'warning',
    reasonCode: 'budget_warning',
    scope: 'channel',
    channel: { monthlyUsd: 0.05, usedUsd: 0.04, usedPercent: 80 },
  });
  const warnReads = mentionReads();
  await step();
  expect(mentionReads()).toBe(warnReads + 1);

  // 2 more: $0.05 = 100 %
  mention(2);
  await step();
  await step();
  const exhausted = await health();
  expect(exhausted.budget).toMatchObject({
    state: 'exhausted',
    reasonCode: 'budget_exhausted',
    scope: 'channel',
    floor: { mentionsSeconds: 3600, dmsSeconds: 86_400 },
  });
  expect(exhausted.budget.reason).toMatch(/used up.*one mention poll every 1 h.*real time stays on/);
  const at = sim.now();
  // the floor: the next mention poll an hour on
  expect(Date.parse(exhausted.notBefore[MENTIONS_ENDPOINT]) - at).toBeGreaterThan(58 * 60_000);
  // outbound: refused, X not called
  const refused = await reply(first[0]);
  expect(refused).toMatchObject({ status: 'failed', error: { code: 'budget_exhausted', retryable: false } });

  // 30 minutes of traffic: no mention poll at all
  const atFloor = mentionReads();
  const waiting = mention(3);
  for (let i = 0; i < 30; i++) await step();
  expect(mentionReads()).toBe(atFloor);
  // DMs: the poll that was due next (at the plan's cadence) set the next one a day on
  const dmAt = Date.parse((await health()).notBefore[DM_EVENTS_ENDPOINT]);
  expect(dmAt - sim.now()).toBeGreaterThan(22 * 3600_000);
  // an hour after the last one: exactly one poll (it reads and meters the 3, still exhausted)
  for (let i = 0; i < 31; i++) await step();
  expect(mentionReads()).toBe(atFloor + 1);
  expect((await health()).budget.state).toBe('exhausted');
  const delivered = (await h.drainInbound()).map((m) => m.id.replace('x:tweet:', ''));
  expect(delivered).toEqual(expect.arrayContaining(waiting));

  // raised through the admin API: due at once, the floor lifted by the next tick's poll
  const more = mention(2);
  const raised = await call(api, { method: 'PATCH', path: `/channels/${id}`, body: { monthlyBudgetUsd: 5 } });
  expect(raised.status).toBe(200);
  const beforeRaise = mentionReads();
  await step();
  const recovered = await health();
  expect(recovered.budget).toMatchObject({ state: 'ok', reasonCode: null });
  expect(mentionReads()).toBe(beforeRaise + 1);
  expect((await h.drainInbound()).map((m) => m.id.replace('x:tweet:', ''))).toEqual(
    expect.arrayContaining(more),
  );
  // back at the plan's cadence (pay-per-use: a mention poll a minute)
  await step();
  expect(mentionReads()).toBe(beforeRaise + 2);
  expect(Date.parse(recovered.notBefore[DM_EVENTS_ENDPOINT]) - sim.now()).toBeLessThan(3600_000);
  // and commands are sent again (once the sender's 30 s budget cache has passed)
  expect((await reply(more[0])).status).toBe('sent');
}, 300_000);

it('costs the poll at most one budget read per channel every BUDGET_CHECK_SECONDS, none while idle polls are fresh', async () => {
  const { aws, sim } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const c = await connectChannel(aws, sim, `idle${Date.now() % 100_000}`);
  const h = await startInboundHarness(aws, sim); // BUDGET_CHECK_SECONDS: the default 300
  const counts = new Map<string, number>();
  const name = 'count-dynamodb-requests';
  aws.clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args.input ?? {}) as { RequestItems?: Record<string, { Keys?: unknown[] }> };
      const keys = Object.values(input.RequestItems ?? {})[0]?.Keys?.length ?? 0;
      const command = `${context.commandName}${keys === 19 ? ' (budget)' : ''}`
        .replace('ItemsCommand', 'Command')
        .replace('ItemCommand', 'Command');
      counts.set(command, (counts.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await h.tick(); // first poll: no verdict stored yet
    counts.clear();
    let polls = 0;
    for (let i = 0; i < 20; i++) {
      world.clock.advance(61_000);
      const out = await h.tick();
      polls += out.jobs;
    }
    const budgetReads = counts.get('BatchGetCommand (budget)') ?? 0;
    const meterWrites = counts.get('TransactWriteCommand') ?? 0;
    // 20 idle polls over 20 minutes: a re-check every 5 minutes, nothing billed so nothing metered
    expect(polls).toBeGreaterThanOrEqual(19);
    expect(budgetReads).toBeLessThanOrEqual(Math.ceil((20 * 61) / 300) + 1);
    expect(budgetReads).toBeGreaterThanOrEqual(3); // counted for real: one per 5 minutes
    expect(meterWrites).toBe(0);
    expect((budgetReads + meterWrites) / polls).toBeLessThanOrEqual(0.25);
    const stored = await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).get(
      c.channel.id,
    );
    expect(stored?.health.budget).toMatchObject({ state: 'none', reasonCode: null });
  } finally {
    aws.clients.dynamodb.middlewareStack.remove(name);
  }
}, 120_000);
