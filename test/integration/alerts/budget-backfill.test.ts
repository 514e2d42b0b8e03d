/**
 * Budgets set before alerts existed (docs/alerts.md "Budgets set before alerts"), through the real
 * clients: the dispatcher's alert evaluation (`compose(...).alerts()`) on DynamoDB Local and the
 * EventBridge publisher on the EventBridge stand-in. A deployment upgraded from the version without the
 * app's `budgetedChannels` list has channel budgets written the old way (`COST#<id>`/`SETTINGS` only):
 * the first evaluation finds them once (one BatchGet per 100 channels, one conditional UpdateItem), alerts
 * on them at 80 % and 100 % and clears; later evaluations read no more than before; a backfill that
 * fails is logged and retried without stopping the other alerts; a `PATCH` that lands between the
 * backfill's read and its write is kept.
 */
import { UpdateCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients, type AwsClients } from '../../../adapters/aws/clients';
import { BUDGETS_LISTED_MARK, createAlertSources } from '../../../adapters/aws/alert-sources';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { createDynamoSpendBudgets } from '../../../adapters/aws/dynamo-spend-budgets';
import { createEventBridgeAlertPublisher } from '../../../adapters/aws/eventbridge-alerts';
import { compose as composeDispatcher } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import type { EventBridgeStandIn } from '../../../stand-ins/eventbridge';
import { activeChannel } from '../../helpers/channel-fixture';
import { startAlertsBus } from '../../helpers/alerts-bus';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';

jest.setTimeout(60_000);

let aws: LocalAws;
let bus: EventBridgeStandIn;
let events: EventBridgeClient;
const opened: AwsClients[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  ({ bus, events } = await startAlertsBus(aws));
});
afterAll(async () => {
  for (const c of opened) {
    c.dynamodb.destroy();
    c.sqs.destroy();
    c.secrets.destroy();
  }
  events?.destroy();
  await bus?.stop();
  await aws?.stop();
});

const NOW = Date.parse('2026-12-10T12:00:00.000Z');

/**
 * A deployment's table (own TABLE_NAME prefix per case: each case is a separate deployment) and its
 * dispatcher on `now`, on clients of its own whose DynamoDB requests are counted (and may be held).
 */
function deployment(name: string, now: { t: number }, env: Record<string, string> = {}) {
  const clients = createAwsClients({
    region: aws.region,
    endpoints: aws.endpoints,
    credentials: aws.credentials,
  });
  opened.push(clients);
  const requests: string[] = [];
  let beforeBackfillWrite: (() => Promise<void>) | null = null;
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(context.commandName ?? '?');
      const input = (args as { input: { UpdateExpression?: string } }).input;
      if (beforeBackfillWrite && input.UpdateExpression?.includes('#mark')) {
        const hold = beforeBackfillWrite;
        beforeBackfillWrite = null;
        await hold();
      }
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const clock = { now: () => new Date(now.t) };
  const logged: Array<[string, unknown]> = [];
  const logger = {
    error: (message: string, fields: unknown) => logged.push([message, fields]),
  } as unknown as Logger;
  const runtime = composeDispatcher(
    loadDispatcherConfig({
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      POLL_JOBS_QUEUE_URL: 'http://127.0.0.1:9/unused',
      CONSOLE_URL: 'https://console.example/',
      ...env,
    }),
    {
      clients,
      clock,
      logger,
      alertPublisher: createEventBridgeAlertPublisher({
        client: events,
        eventBusName: 'default',
        deployment: name,
      }),
    },
  );
  return {
    clients,
    requests,
    /** What the dispatcher logged as an error. */
    logged,
    /** Runs `hold` once, just before the backfill's write reaches DynamoDB. */
    holdBackfillWrite(hold: () => Promise<void>) {
      beforeBackfillWrite = hold;
    },
    async evaluate() {
      requests.length = 0;
      return (await runtime.alerts()).report;
    },
    announced: (id: string) =>
      bus
        .events()
        .filter((e) => {
          const d = e.detail as { deployment: string; id: string };
          return d.deployment === name && d.id === id;
        })
        .map((e) => (e.detail as { state: string }).state),
  };
}

let accounts = 7000;
async function channel(id: string, username: string) {
  const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
  await store.create(
    activeChannel({
      id,
      account: { id: String(accounts++), username, name: username },
      scopes: [],
      at: new Date(NOW - 3_600_000).toISOString(),
    }),
  );
}

/** What the version before alerts wrote for `PATCH /channels/{id}` `monthlyBudgetUsd`: the channel's item only. */
const oldWayBudget = (channelId: string, usd: number) =>
  aws.clients.doc.send(
    new UpdateCommand({
      TableName: aws.tableName,
      Key: { pk: `COST#${channelId}`, sk: 'SETTINGS' },
      UpdateExpression: 'SET monthlyBudgetUsd = :b',
      ExpressionAttributeValues: { ':b': usd },
    }),
  );

const spend = (channelId: string, usd: number, tag: string) =>
  createDynamoSpendLedger({ client: aws.clients.doc, tableName: aws.tableName }).record(
    channelId,
    new Date(NOW - 60_000),
    [{ category: 'postCreate', micros: Math.round(usd * 1_000_000), dedupKey: `postCreate:${tag}` }],
  );

/** The app item as before the upgrade: no list, no mark. */
const unmark = () =>
  aws.clients.doc.send(
    new UpdateCommand({
      TableName: aws.tableName,
      Key: { pk: 'COSTAPP', sk: 'SETTINGS' },
      UpdateExpression: 'REMOVE #m, budgetedChannels',
      ExpressionAttributeNames: { '#m': BUDGETS_LISTED_MARK },
    }),
  );

const appItem = async () =>
  (
    await aws.clients.doc.send(
      new GetCommand({
        TableName: aws.tableName,
        Key: { pk: 'COSTAPP', sk: 'SETTINGS' },
        ConsistentRead: true,
      }),
    )
  ).Item;

it('an old-way channel budget is found once, alerted on at 80 % and 100 %, and cleared; later ticks cost what they did', async () => {
  const now = { t: NOW };
  const d = deployment('backfill-upgrade', now);
  await channel('ch_bf_old', 'old_budget');
  await channel('ch_bf_none', 'no_budget');
  await oldWayBudget('ch_bf_old', 1);
  await spend('ch_bf_old', 0.85, 'a');
  expect(await appItem()).toBeUndefined();

  // first evaluation after the upgrade: the list is backfilled and the budget is watched at once
  const first = await d.evaluate();
  expect(first.opened).toEqual(['budget_warning:ch_bf_old']);
  const app = await appItem();
  expect(app?.budgetedChannels).toEqual(new Set(['ch_bf_old']));
  expect(typeof app?.[BUDGETS_LISTED_MARK]).toBe('string');
  // channel list Query, app BatchGet, alert Query, the backfill's BatchGet and UpdateItem, the channel's Query
  // (plus the alert's writes)
  expect(d.requests.filter((r) => r === 'BatchGetItemCommand')).toHaveLength(2);

  // a tick with nothing new: no backfill again — the channel list, the app's BatchGet, the alerts, one
  // Query for the one budgeted channel
  now.t += 60_000;
  const quiet = await d.evaluate();
  expect(quiet).toMatchObject({ opened: [], cleared: [] });
  expect(d.requests.sort()).toEqual(['BatchGetItemCommand', 'QueryCommand', 'QueryCommand', 'QueryCommand']);

  await spend('ch_bf_old', 0.2, 'b');
  now.t += 60_000;
  expect((await d.evaluate()).opened).toEqual(['budget_exhausted:ch_bf_old']);
  now.t += 60_000;
  await d.evaluate();

  // the budget raised the old way too (a deployment still running the previous API during the update)
  await oldWayBudget('ch_bf_old', 10);
  now.t += 60_000;
  expect((await d.evaluate()).cleared.sort()).toEqual([
    'budget_exhausted:ch_bf_old',
    'budget_warning:ch_bf_old',
  ]);
  now.t += 60_000;
  await d.evaluate();
  expect(d.announced('budget_warning:ch_bf_old')).toEqual(['open', 'cleared']);
  expect(d.announced('budget_exhausted:ch_bf_old')).toEqual(['open', 'cleared']);
  expect(d.announced('budget_warning:ch_bf_none')).toEqual([]);
});

it('a backfill that fails is logged, the other alerts are still evaluated, and the next evaluation backfills', async () => {
  await unmark();
  const now = { t: NOW + 3_600_000 };
  const dlq = (await aws.createQueues()).results;
  const d = deployment('backfill-fails', now, { RESULTS_DLQ_URL: dlq.dlqUrl });
  await aws.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlq.dlqUrl, MessageBody: '{}' }));
  d.holdBackfillWrite(async () => {
    throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
  });
  expect((await d.evaluate()).opened).toEqual(['dlq_not_empty:results']);
  expect((await appItem())?.[BUDGETS_LISTED_MARK]).toBeUndefined();
  expect(d.logged).toEqual([['budget list backfill failed', { errorName: 'AccessDeniedException' }]]);
  await aws.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: dlq.dlqUrl }));
  now.t += 60_000;
  expect((await d.evaluate()).cleared).toEqual(['dlq_not_empty:results']);

  const app = await appItem();
  expect(typeof app?.[BUDGETS_LISTED_MARK]).toBe('string');
  expect(app?.budgetedChannels).toEqual(new Set(['ch_bf_old']));
  expect(d.announced('dlq_not_empty:results')).toEqual(['open', 'cleared']);
});

it('a PATCH between the backfill’s read and its write is kept, and a second evaluator’s backfill changes nothing', async () => {
  // the previous cases' channels and the mark belong to another deployment: start from an unmarked app item
  await unmark();
  const now = { t: NOW };
  const d = deployment('backfill-race', now);
  await channel('ch_bf_race_old', 'race_old');
  await channel('ch_bf_race_new', 'race_new');
  await oldWayBudget('ch_bf_race_old', 1);
  await spend('ch_bf_race_old', 1.5, 'race-old');
  await spend('ch_bf_race_new', 0.9, 'race-new');

  // the admin sets ch_bf_race_new's budget (the real PATCH path) after the backfill read the budgets
  const budgets = createDynamoSpendBudgets({ client: aws.clients.doc, tableName: aws.tableName });
  d.holdBackfillWrite(() => budgets.set('ch_bf_race_new', 1));
  const first = await d.evaluate();
  expect(first.opened.sort()).toEqual(['budget_exhausted:ch_bf_race_old', 'budget_warning:ch_bf_race_old']);
  const app = await appItem();
  expect([...(app?.budgetedChannels as Set<string>)].sort()).toEqual([
    'ch_bf_old',
    'ch_bf_race_new',
    'ch_bf_race_old',
  ]);
  const mark = app?.[BUDGETS_LISTED_MARK];

  // a second dispatcher that read the app item before the mark was written runs the backfill too: refused
  const other = deployment('backfill-race', now);
  const sources = createAlertSources({
    client: other.clients.doc,
    sqs: other.clients.sqs,
    tableName: aws.tableName,
    dlqUrls: {},
  });
  expect(await sources.listBudgetedChannels(['ch_bf_race_old'], new Date(NOW).toISOString())).toEqual([
    'ch_bf_race_old',
  ]);
  const after = await appItem();
  expect(after?.[BUDGETS_LISTED_MARK]).toBe(mark);
  expect(after?.budgetedChannels).toEqual(app?.budgetedChannels);

  // the PATCHed budget is watched from the next tick on
  now.t += 60_000;
  expect((await d.evaluate()).opened).toEqual(['budget_warning:ch_bf_race_new']);
  expect(d.announced('budget_warning:ch_bf_race_new')).toEqual(['open']);
  expect(d.announced('budget_exhausted:ch_bf_race_old')).toEqual(['open']);
});
