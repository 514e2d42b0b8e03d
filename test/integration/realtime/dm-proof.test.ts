/**
 * DM reconciliation with real time on (core/realtime/proof.ts), end to end: the real webhook function
 * behind the local HTTP host, its watch (sweep replays) and subscription reconciliation with
 * twitter-api-v2 against the simulated X, the real poller through the dispatcher, DynamoDB Local and
 * the SQS stand-in. X's own meter (`GET /_sim/billing`) is the judge: DMs the webhook delivered are
 * not read (and billed) again by the 6-hourly DM poll, and a DM real time missed still arrives.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoDmPollRequest } from '../../../adapters/aws/dynamo-dm-poll-request';
import { createDynamoPollState } from '../../../adapters/aws/dynamo-poll-state';
import { subscriptionTag } from '../../../core/realtime/subscriptions';
import type { WebhookRuntime } from '../../../lambdas/webhook/compose';
import type { HttpHost } from '../../../local/http-host';
import {
  composeTestWebhook,
  createXAppSecret,
  startWebhookHost,
  webhookHandler,
} from '../../helpers/realtime-channel';
import {
  clockOf,
  connectChannel,
  startInboundHarness,
  useInboundWorld,
  type InboundHarness,
} from '../inbound/harness';
import { signIn } from '../sim-x/helpers';
import { appBearerToken, call } from '../sim-x/xaa-helpers';

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-proof-${randomUUID().slice(0, 8)}`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let h: InboundHarness;
let host: HttpHost;
let runtime: WebhookRuntime;
let accountId: string;
let channelId: string;
let customerId: string;

beforeAll(async () => {
  await createXAppSecret(world.aws, SECRET_ID);
});

beforeEach(async () => {
  const { aws, sim } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  // the app-wide real-time items (marks, windows, job) of an earlier test in this table
  for (const pk of ['RT#OUTAGE', 'RT#REPLAY', 'RT#APP']) {
    const res = await aws.clients.doc.send(
      new QueryCommand({
        TableName: aws.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    for (const it of res.Items ?? [])
      await aws.clients.doc.send(new DeleteCommand({ TableName: aws.tableName, Key: { pk, sk: it.sk } }));
  }
  h = await startInboundHarness(aws, sim);
  const username = `acme${randomUUID().slice(0, 6)}`;
  const connected = await connectChannel(aws, sim, username);
  accountId = connected.accountId;
  channelId = connected.channel.id;
  await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).claimAccount(
    accountId,
    channelId,
  );
  customerId = sim.createUser({ username: `carla${randomUUID().slice(0, 6)}`, name: 'Carla' }).id;
  runtime = composeTestWebhook(world, h, SECRET_ID, { xApiBaseUrl: sim.url });
  host = await startWebhookHost(webhookHandler(runtime));
  sim.setDelivery({ delayMs: 0, dropRate: 0, duplicateRate: 0 });
  const bearer = await appBearerToken(sim);
  const hook = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${host.url}/x/webhook` });
  expect(hook.status).toBe(200);
  // what sign-in creates, tagged for this channel so that reconciliation counts them as its own
  const login = await signIn(sim, username);
  for (const eventType of ['post.mention.create', 'post.reply.create', 'dm.received', 'chat.received']) {
    const sub = await call(sim, 'POST', '/2/activity/subscriptions', login.accessToken, {
      event_type: eventType,
      filter: { user_id: accountId },
      webhook_id: hook.body.data.id,
      tag: subscriptionTag(channelId),
    });
    expect(sub.status).toBeLessThan(300);
  }
  // reconciliation records them (with the time they are held since) and lists X at this time
  const reconciled = await runtime.reconcile();
  expect(reconciled.listedAt).not.toBeNull();
  const channel = await channels().get(channelId);
  expect(channel?.realtime).toMatchObject({ dms: true, mentions: true });
  // the first poll reads DMs down to the sign-in (none yet): every DM before it is delivered
  expect((await h.tick()).jobs).toBe(1);
  expect((await channels().get(channelId))?.checkpoints.dmCoveredTo).toBe(new Date(sim.now()).toISOString());
  // the watch's first tick starts the sweeps
  expect((await runtime.watch()).swept).toBeNull();
});

afterEach(async () => {
  await host.stop();
  await channels().releaseAccount(accountId, channelId);
  // one table for the file: an earlier test's channel must not be due in a later test's ticks
  await channels().delete(channelId);
});

const channels = () =>
  createDynamoChannelStore({ client: world.aws.clients.doc, tableName: world.aws.tableName });

const dm = async (text: string) => {
  const res = await fetch(`${world.sim.url}/_sim/dms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ senderId: customerId, recipientId: accountId, text }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

/** X's meter as X reports it. */
const billing = async () => {
  const res = await fetch(`${world.sim.url}/_sim/billing`);
  expect(res.status).toBe(200);
  return (await res.json()) as { reads: { dmEvents: number }; events: Record<string, number> };
};

const inboundDmIds = async () =>
  (await h.drainInbound())
    .filter((m) => m.kind === 'dm')
    .map((m) => m.id)
    .sort();

describe('DM reconciliation with real time on', () => {
  it('does not read again the DMs the webhook delivered; a DM X dropped comes by the sweep, billed once', async () => {
    const before = await billing();
    world.sim.advanceClock(MINUTE);
    const live = [await dm('one'), await dm('two'), await dm('three')];
    world.sim.setDelivery({ dropRate: 1 }); // X drops this delivery silently
    const dropped = await dm('four');
    world.sim.setDelivery({ dropRate: 0 });
    await world.sim.deliveriesIdle();
    expect(await inboundDmIds()).toEqual(live.map((id) => `x:dm:${id}`).sort());

    // six hours on (same UTC day): the sweep replays them all, the dropped one included
    world.sim.advanceClock(6 * HOUR);
    const tick = await runtime.watch();
    expect(tick.swept).not.toBeNull();
    expect(tick.started).not.toBeNull();
    await world.sim.deliveriesIdle();
    expect(await inboundDmIds()).toEqual([`x:dm:${dropped}`]);
    expect(await runtime.realtime.currentJob()).toBeNull(); // X reported the job Complete
    await runtime.reconcile();

    // the 6-hourly DM reconciliation poll: due, proven, and nothing read
    const polled = await h.tick();
    expect(polled.jobs).toBe(1);
    const after = await billing();
    expect(after.reads.dmEvents - before.reads.dmEvents).toBe(0);
    // X billed each DM once, as a delivered event (the replay on the same UTC day was free)
    expect((after.events['dm.received'] ?? 0) - (before.events['dm.received'] ?? 0)).toBe(4);
    expect(await inboundDmIds()).toEqual([]);
    const channel = await channels().get(channelId);
    expect(Date.parse(channel!.checkpoints.dmCoveredTo!)).toBeGreaterThan(world.sim.now() - 5 * MINUTE);
    expect(Date.parse(channel!.health.notBefore['GET /2/dm_events'])).toBeGreaterThan(
      world.sim.now() + 5 * HOUR,
    );
  });

  it('a DM with media the webhook leaves to the poller is read while the proof is fresh (the hold)', async () => {
    world.sim.advanceClock(MINUTE);
    await dm('before the sweep');
    world.sim.advanceClock(HOUR + MINUTE);
    expect((await runtime.watch()).swept).not.toBeNull();
    await world.sim.deliveriesIdle();
    await runtime.reconcile();
    await h.drainInbound();

    // the webhook publishes nothing for it, records the hold and makes the DM stream due now
    const res = await fetch(`${world.sim.url}/_sim/dms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        senderId: customerId,
        recipientId: accountId,
        text: 'see photo',
        mediaCount: 1,
      }),
    });
    expect(res.status).toBe(201);
    const photo = ((await res.json()) as { id: string }).id;
    await world.sim.deliveriesIdle();
    expect(await inboundDmIds()).toEqual([]);
    expect((await channels().get(channelId))?.checkpoints.dmHold).toEqual(expect.any(String));

    // proven up to a minute ago and real time up, yet the poll reads: the hold wins
    expect((await h.tick()).jobs).toBe(1);
    expect(await inboundDmIds()).toEqual([`x:dm:${photo}`]);
    const channel = await channels().get(channelId);
    expect(channel?.checkpoints.dmHold).toBeNull();
    expect(channel?.checkpoints.dmEventId).toBe(photo);
  });

  it('a hold written while a poll holds the claim refuses that poll’s checkpoint write (retryable conflict)', async () => {
    const { aws, sim } = world;
    const client = aws.clients.doc;
    const state = createDynamoPollState({ client, tableName: aws.tableName, clock: clockOf(sim) });
    const now = new Date(sim.now()).toISOString();
    const seen = (await state.peekDue(channelId))!.dueAt!;
    const claim = await state.claimPoll(channelId, {
      owner: 'job-hold',
      seenDueAt: seen,
      leaseUntil: new Date(sim.now() + 2 * MINUTE).toISOString(),
    });
    if ('refused' in claim) throw new Error(`claim refused: ${claim.refused}`);
    const expected = claim.channel.checkpoints;
    // the webhook leaves a DM with media to the poller meanwhile (before its 2xx)
    await createDynamoDmPollRequest({ client, tableName: aws.tableName, clock: clockOf(sim) }).requestDmPoll(
      channelId,
      now,
    );
    // a poll that decided before the hold (e.g. to skip, moving dmCoveredTo) cannot move past it
    await expect(
      state.finishPoll(channelId, {
        owner: 'job-hold',
        expected,
        next: { ...expected, dmCoveredTo: now },
        health: { lastPollAt: now },
        nextPollAt: now,
      }),
    ).rejects.toMatchObject({ kind: 'retryable', code: 'conflict' });
    const stored = (await channels().get(channelId))!.checkpoints;
    expect(stored.dmHold).toBe(now);
    expect(stored.dmCoveredTo).toBe(expected.dmCoveredTo);
  });

  it('a DM X dropped while the watch was down is read and delivered by the DM reconciliation poll', async () => {
    world.sim.advanceClock(MINUTE);
    const first = await dm('delivered live');
    await world.sim.deliveriesIdle();
    expect(await inboundDmIds()).toEqual([`x:dm:${first}`]);
    // an hour on, a sweep proves the first DM delivered
    world.sim.advanceClock(HOUR + MINUTE);
    expect((await runtime.watch()).swept).not.toBeNull();
    await world.sim.deliveriesIdle();
    await runtime.reconcile();
    expect(await inboundDmIds()).toEqual([]);

    // then X drops a delivery and the watch stops (no sweep will replay it)
    world.sim.setDelivery({ dropRate: 1 });
    const missed = await dm('lost by the webhook');
    await world.sim.deliveriesIdle();
    world.sim.setDelivery({ dropRate: 0 });
    expect(await inboundDmIds()).toEqual([]);
    const before = await billing();

    // the next DM poll finds real time down (no watch tick for hours) and reads above the proof
    world.sim.advanceClock(5 * HOUR);
    expect((await h.tick()).jobs).toBe(1);
    expect(await inboundDmIds()).toEqual([`x:dm:${missed}`]);
    const after = await billing();
    expect(after.reads.dmEvents - before.reads.dmEvents).toBeGreaterThanOrEqual(1);
    const channel = await channels().get(channelId);
    expect(channel!.checkpoints.dmEventId).toBe(missed);
  });
});
