/**
 * Alerts on what a send learns (issue 20 acceptance "each alert fires once for its condition and
 * clears"), through the real sender handler (SQS stand-in, DynamoDB Local, the simulated X), the
 * dispatcher's alert evaluation (`compose(...).alerts()`) and the EventBridge publisher on the
 * EventBridge stand-in. The channel listens to nothing, so no poll ever runs for it: what the sender
 * writes is all the evaluation sees.
 * - X answers a post with 402 (credits depleted): `credits_depleted:app` opens once; credits topped up,
 *   the next post is sent and the alert clears.
 * - Posts use up the channel's monthly budget: `budget_warning` and `budget_exhausted` open once each;
 *   the budget raised, both clear.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createDynamoSpendBudgets } from '../../../adapters/aws/dynamo-spend-budgets';
import { createEventBridgeAlertPublisher } from '../../../adapters/aws/eventbridge-alerts';
import { OUTBOUND_SCHEMA } from '../../../contracts';
import { compose as composeDispatcher } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import type { SimX } from '../../../sim/x/server';
import type { EventBridgeStandIn } from '../../../stand-ins/eventbridge';
import { startAlertsBus } from '../../helpers/alerts-bus';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { connectChannel, startSenderHarness, type SenderHarness } from '../outbound/harness';
import { startTestSim } from '../sim-x/helpers';

jest.setTimeout(120_000);

let aws: LocalAws;
let sim: SimX;
let bus: EventBridgeStandIn;
let events: EventBridgeClient;
beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  aws = await startLocalAws();
  ({ bus, events } = await startAlertsBus(aws));
  sim = await startTestSim({ clock: { now: () => Date.now() } });
});
afterAll(async () => {
  await sim?.stop();
  events?.destroy();
  await bus?.stop();
  await aws?.stop();
});

/** The dispatcher's alert evaluation on the harness's clock. */
function evaluator(h: SenderHarness) {
  const runtime = composeDispatcher(
    loadDispatcherConfig({
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      POLL_JOBS_QUEUE_URL: 'http://127.0.0.1:9/unused',
    }),
    {
      clients: aws.clients,
      clock: h.clock,
      alertPublisher: createEventBridgeAlertPublisher({
        client: events,
        eventBusName: 'default',
        deployment: 'send-learned',
      }),
    },
  );
  return async () => (await runtime.alerts()).report;
}

const announced = (id: string) =>
  bus
    .events()
    .filter((e) => (e.detail as { id: string }).id === id)
    .map((e) => (e.detail as { state: string }).state);

async function setup(username: string) {
  const h = await startSenderHarness(aws, sim);
  const { channel } = await connectChannel(aws, sim, username, {
    listenMentions: false,
    listenDms: false,
    options: { allowPosts: true },
  } as never);
  let n = 0;
  const post = async () => {
    const key = `${username}-${n++}`;
    await h.send({
      schema: OUTBOUND_SCHEMA,
      idempotencyKey: key,
      channelId: channel.id,
      kind: 'post',
      text: `Update ${key}`,
    });
    await h.drain();
    return (await h.results()).find((r) => r.idempotencyKey === key)!;
  };
  return { h, channel, post, evaluate: evaluator(h) };
}

it('credits_depleted: a post answered 402 → one alert; credits back and a post sent → cleared', async () => {
  const { h, post, evaluate } = await setup('send_credits');
  expect((await post()).status).toBe('sent');
  await evaluate();
  expect(announced('credits_depleted:app')).toEqual([]);

  sim.setCredits(0);
  try {
    const refused = await post();
    expect(refused).toMatchObject({ status: 'failed', error: { code: 'credits_depleted' } });
    h.clock.advanceSeconds(60);
    await evaluate();
    h.clock.advanceSeconds(60);
    await evaluate();
    expect(announced('credits_depleted:app')).toEqual(['open']);
  } finally {
    sim.setCredits(null);
  }
  h.clock.advanceSeconds(60);
  expect((await post()).status).toBe('sent');
  h.clock.advanceSeconds(60);
  await evaluate();
  h.clock.advanceSeconds(60);
  await evaluate();
  expect(announced('credits_depleted:app')).toEqual(['open', 'cleared']);
});

it('budget_warning and budget_exhausted: posts use up the channel budget → one alert each; raised → cleared', async () => {
  const { h, channel, post, evaluate } = await setup('send_budget');
  const budgets = createDynamoSpendBudgets({ client: aws.clients.doc, tableName: aws.tableName });
  // $0.015 a post: the second one reaches 100 % of $0.03 (after the first, 50 %: no alert)
  await budgets.set(channel.id, 0.03);
  expect((await post()).status).toBe('sent');
  await evaluate();
  expect(announced(`budget_warning:${channel.id}`)).toEqual([]);
  h.clock.advanceSeconds(31); // past the budget guard's 30 s cache
  expect((await post()).status).toBe('sent');
  h.clock.advanceSeconds(31);
  expect((await post()).status).toBe('failed');
  await evaluate();
  h.clock.advanceSeconds(60);
  await evaluate();
  expect(announced(`budget_warning:${channel.id}`)).toEqual(['open']);
  expect(announced(`budget_exhausted:${channel.id}`)).toEqual(['open']);

  await budgets.set(channel.id, 1);
  h.clock.advanceSeconds(60);
  await evaluate();
  h.clock.advanceSeconds(60);
  await evaluate();
  expect(announced(`budget_warning:${channel.id}`)).toEqual(['open', 'cleared']);
  expect(announced(`budget_exhausted:${channel.id}`)).toEqual(['open', 'cleared']);
});
