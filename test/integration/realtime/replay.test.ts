/**
 * Outages and replay end to end: the real webhook function behind the local HTTP host, its watch tick
 * (core/realtime/watch.ts) with twitter-api-v2 against the simulated X, state in DynamoDB Local and
 * the inbound queue on the SQS stand-in. Each case makes the connector miss deliveries the way it
 * happens in production and checks that X's replay (or, beyond 24 h, a poll) brings every item once.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoRealtimeState } from '../../../adapters/aws/dynamo-realtime-state';
import type { InboundPublisher } from '../../../core/inbound/types';
import type { WebhookRuntime } from '../../../lambdas/webhook/compose';
import type { HttpHandler } from '../../../local/http-host';
import {
  arrangeRealtimeChannel,
  composeTestWebhook,
  createXAppSecret,
  releaseRealtimeChannel,
  webhookHandler,
  type RealtimeChannel,
} from '../../helpers/realtime-channel';
import { startInboundHarness, useInboundWorld, type InboundHarness } from '../inbound/harness';
import { appBearerToken, call } from '../sim-x/xaa-helpers';

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-replay-${randomUUID().slice(0, 8)}`;
const MINUTE = 60_000;

let h: InboundHarness;
let rt: RealtimeChannel | undefined;
let runtime: WebhookRuntime;
let channelId: string;
let username: string;
let customerId: string;
let webhookId: string;
/** The endpoint as X reaches it: `down` answers 502 without running the function (a dead deployment). */
const gate = { down: false, failPublishes: 0, wrongCrc: false };

beforeAll(() => createXAppSecret(world.aws, SECRET_ID));

/** Forgets the app-wide real-time items (one table per file). */
async function clearRealtimeItems() {
  const { doc } = world.aws.clients;
  const TableName = world.aws.tableName;
  for (const pk of ['RT#OUTAGE', 'RT#REPLAY', 'RT#APP']) {
    const res = await doc.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    for (const it of res.Items ?? [])
      await doc.send(new DeleteCommand({ TableName, Key: { pk, sk: it.sk } }));
  }
}

beforeEach(async () => {
  rt = undefined;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  await clearRealtimeItems();
  gate.down = false;
  gate.failPublishes = 0;
  gate.wrongCrc = false;
  h = await startInboundHarness(world.aws, world.sim);
  runtime = composeTestWebhook(world, h, SECRET_ID, {
    xApiBaseUrl: world.sim.url,
    wrapPublisher: (p: InboundPublisher): InboundPublisher => ({
      async publish(messages) {
        if (gate.failPublishes > 0) {
          gate.failPublishes--;
          throw new Error('SQS unavailable (injected)');
        }
        await p.publish(messages);
      },
    }),
  });
  const app = webhookHandler(runtime);
  const gated: HttpHandler = async (event, context) => {
    if (gate.down) return { statusCode: 502, body: '' };
    if (gate.wrongCrc && event.requestContext?.http?.method === 'GET')
      return { statusCode: 200, body: JSON.stringify({ response_token: 'sha256=AAAA' }) };
    return app(event, context);
  };
  rt = await arrangeRealtimeChannel(world, {
    webhook: gated,
    eventTypes: ['post.mention.create', 'dm.received'],
  });
  ({ channelId, username, customerId, webhookId } = rt);
});

afterEach(() => releaseRealtimeChannel(world, rt));

const mention = async (text = 'help') => {
  const res = await fetch(`${world.sim.url}/_sim/tweets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ authorId: customerId, text: `@${username} ${text}` }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

/** X's periodic CRC gets a wrong answer (e.g. a bad deploy): X marks the webhook invalid at once. */
async function invalidateWebhook() {
  gate.wrongCrc = true;
  const crc = await world.sim.runCrc();
  gate.wrongCrc = false;
  expect(crc.find((c) => c.id === webhookId)?.valid).toBe(false);
}

const catchingUpOnChannel = async () => {
  const res = await world.aws.clients.doc.send(
    new GetCommand({ TableName: world.aws.tableName, Key: { pk: `CH#${channelId}`, sk: 'CHANNEL' } }),
  );
  return (res.Item?.realtimeCatchingUpSince as string | undefined) ?? null;
};

const state = () =>
  createDynamoRealtimeState({ client: world.aws.clients.doc, tableName: world.aws.tableName });
const inboundIds = async () => (await h.drainInbound()).map((m) => m.id).sort();
const replayAttempts = () =>
  world.sim
    .deliveries(webhookId)
    .flatMap((d) => d.attempts)
    .filter((a) => a.mode === 'replay');

describe('outages are replayed', () => {
  it('a delivery the handler could not queue (503) is recorded, replayed and published once', async () => {
    gate.failPublishes = 1;
    const id = await mention();
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([]);
    const windows = await state().outages();
    expect(windows.map((w) => w.reason)).toEqual(['handler_error']);

    const report = await runtime.watch();
    expect(report.started).toMatchObject({ jobId: expect.any(String) });
    expect(report.catchingUpSince).toBe(windows[0].from);
    // the channels show "catching up since …" (the health's realtimeCatchingUpSince) while the job runs
    expect(await catchingUpOnChannel()).toBe(windows[0].from);
    await world.sim.deliveriesIdle();

    expect(await inboundIds()).toEqual([`x:tweet:${id}`]);
    expect(replayAttempts().map((a) => a.status)).toEqual([200]);
    // X's replay_job_status ended the job; nothing is left to catch up
    expect(await state().currentJob()).toBeNull();
    expect(await state().outages()).toEqual([]);
    expect((await runtime.watch()).catchingUpSince).toBeNull();
    expect(await catchingUpOnChannel()).toBeNull();
  });

  it('a 30-minute outage of the whole runtime is replayed after the restart, each item once', async () => {
    await runtime.watch(); // the last tick before the outage
    const before = await mention('before');
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([`x:tweet:${before}`]);

    gate.down = true;
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) {
      world.sim.advanceClock(10 * MINUTE);
      missed.push(await mention(`during ${i}`));
    }
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([]);
    gate.down = false;
    world.sim.advanceClock(MINUTE);

    const report = await runtime.watch();
    expect(report.opened).toEqual(['restart']);
    expect(report.started).not.toBeNull();
    await world.sim.deliveriesIdle();
    // the replay window starts at the last tick: it re-sends `before` too, which the ledger drops
    expect(await inboundIds()).toEqual(missed.map((m) => `x:tweet:${m}`).sort());
    expect(replayAttempts().length).toBe(4);
    expect(await state().currentJob()).toBeNull();
  });

  it('a webhook X marked invalid is re-validated and the time since it was last valid is replayed', async () => {
    await runtime.watch();
    const bearer = await appBearerToken(world.sim);
    await invalidateWebhook();
    world.sim.advanceClock(5 * MINUTE);
    const missed = await mention('while invalid');
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([]);
    world.sim.advanceClock(MINUTE);

    const report = await runtime.watch();
    expect(report.webhook).toBe('revalidated');
    expect(report.opened).toContain('webhook_invalid');
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([`x:tweet:${missed}`]);
    const listed = await call(world.sim, 'GET', '/2/webhooks', bearer);
    expect(listed.body.data[0].valid).toBe(true);
  });

  it('beyond 24 h the poller fills the gap: the channels are made due and the poll delivers', async () => {
    await runtime.watch();
    await invalidateWebhook();
    const old = await mention('a day ago');
    world.sim.advanceClock(26 * 60 * MINUTE);
    const recent = await mention('just now');
    await world.sim.deliveriesIdle();
    expect(await inboundIds()).toEqual([]);

    const report = await runtime.watch();
    expect(report.webhook).toBe('revalidated');
    expect(report.backfillFrom).not.toBeNull();
    expect(report.started).not.toBeNull();
    await world.sim.deliveriesIdle();
    // X replays what is within 24 h …
    expect(await inboundIds()).toEqual([`x:tweet:${recent}`]);
    // … and the poll brings the older one (the recent one again, which the ledger drops)
    await h.tick();
    expect(await inboundIds()).toEqual([`x:tweet:${old}`]);
  });

  it('runs one replay job at a time: windows wait while a job runs, X refuses a second job', async () => {
    world.sim.setDelivery({ delayMs: 1500 }); // the job stays running while the test looks
    gate.failPublishes = 1;
    await mention('first');
    await world.sim.deliveriesIdle();
    const first = await runtime.watch();
    expect(first.started).not.toBeNull();

    // a second, later window while the job runs: no second job, "catching up" since the job's start
    await state().openOutage({
      from: new Date(world.sim.now() - MINUTE),
      to: new Date(world.sim.now()),
      reason: 'handler_error',
    });
    const second = await runtime.watch();
    expect(second.started).toBeNull();
    expect(second.catchingUpSince).toBe(first.started!.from);
    expect(
      await state().claimJob({
        claimId: 'other',
        jobId: null,
        from: first.started!.from,
        to: first.started!.to,
        startedAt: new Date(world.sim.now()).toISOString(),
        reasons: [],
      }),
    ).toBe(false);
    const bearer = await appBearerToken(world.sim);
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');
    const conflict = await call(world.sim, 'POST', '/2/webhooks/replay', bearer, {
      webhook_id: webhookId,
      from_date: minute(world.sim.now() - 5 * MINUTE),
      to_date: minute(world.sim.now()),
    });
    expect(conflict.status).toBe(409);

    await world.sim.deliveriesIdle();
    expect(await state().currentJob()).toBeNull();
    // the waiting window gets its own job now
    const third = await runtime.watch();
    expect(third.started).not.toBeNull();
    await world.sim.deliveriesIdle();
    expect((await h.drainInbound()).length).toBe(1);
  });
});
