/**
 * The spend meter against the simulated X's own billing (`GET /_sim/billing`, X's rules: reads per
 * resource once per UTC day per app, writes per request, XAA events once per object and UTC day): a
 * randomized day of traffic — mentions and DMs polled by the real poller handler, delivered by signed
 * webhooks (with X's duplicates), replies, DMs and posts (some with URLs) sent by the real sender handler,
 * across a UTC midnight, one account owning the app (Owned Reads at $0.001) — and the meter's DynamoDB
 * counters equal X's bill to the cent. A failure names its seed (`XC_COST_SEED`).
 */
import { randomUUID } from 'node:crypto';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { sumDays, UNROUTED_CHANNEL } from '../../../core/cost/meter';
import type { HttpHost } from '../../../local/http-host';
import {
  composeTestWebhook,
  createXAppSecret,
  startWebhookHost,
  webhookHandler,
} from '../../helpers/realtime-channel';
import { clockOf, connectChannel, startInboundHarness, useInboundWorld } from '../inbound/harness';
import { startSenderHarness } from '../outbound/harness';
import { CLIENT_ID, signIn } from '../sim-x/helpers';
import { appBearerToken, call } from '../sim-x/xaa-helpers';

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-cost-${randomUUID().slice(0, 8)}`;

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let host: HttpHost | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

beforeAll(async () => {
  await createXAppSecret(world.aws, SECRET_ID);
});

const SEED = Number(process.env.XC_COST_SEED ?? Date.now() % 1_000_000);

it(`meters a randomized day of traffic to the cent of X's bill (seed ${SEED})`, async () => {
  try {
    await meteredDay();
  } catch (e) {
    // the seed in the failure itself (a name can be cut in a CI summary): rerun with XC_COST_SEED=<seed>
    if (e instanceof Error) e.message = `XC_COST_SEED=${SEED} reproduces this run\n${e.message}`;
    throw e;
  }
}, 600_000);

async function meteredDay() {
  const { aws, sim } = world;
  const rand = random(SEED);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const store = createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName });
  const suffix = randomUUID().slice(0, 6);
  // A: real time + polling; B: polling only (no subscriptions)
  const a = await connectChannel(aws, sim, `acme${suffix}`, { options: { allowPosts: true } } as never);
  const b = await connectChannel(aws, sim, `bolt${suffix}`, { options: { allowPosts: true } } as never);
  for (const c of [a, b]) await store.claimAccount(c.accountId, c.channel.id);
  // A's account owns the developer app: its own mention reads are Owned Reads ($0.001) at X and here
  const simApp = sim.state.apps.find((p) => p.clientId === CLIENT_ID)!;
  sim.registerApp({ ...simApp, ownerUserId: a.accountId });
  const owner = { X_APP_OWNER_USER_ID: a.accountId };
  const h = await startInboundHarness(aws, sim, { env: owner });
  const sender = await startSenderHarness(aws, sim, { clock: clockOf(sim) }, owner);

  const runtime = composeTestWebhook(world, h, SECRET_ID);
  host = await startWebhookHost(webhookHandler(runtime));
  // X duplicates some deliveries: billed once per object and day, so metered once too
  sim.setDelivery({ delayMs: 0, dropRate: 0, duplicateRate: 0.2 });
  const bearer = await appBearerToken(sim);
  const hook = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${host.url}/x/webhook` });
  expect(hook.body.data.valid).toBe(true);
  const login = await signIn(sim, a.channel.account!.username);
  for (const eventType of ['post.mention.create', 'post.reply.create', 'dm.received', 'chat.received']) {
    const sub = await call(sim, 'POST', '/2/activity/subscriptions', login.accessToken, {
      event_type: eventType,
      filter: { user_id: a.accountId },
      webhook_id: hook.body.data.id,
    });
    expect(sub.status).toBeLessThan(300);
  }

  const customers = Array.from(
    { length: 4 },
    (_, i) => sim.createUser({ username: `cust${i}${suffix}`, name: `Customer ${i}` }).id,
  );
  const channels = [a, b];
  const mentions: Array<{ channelId: string; id: string }> = [];
  const dmConversations: Array<{ channelId: string; conversationId: string }> = [];
  let commands = 0;
  // noon to noon: the traffic crosses a UTC midnight, where every resource may be billed again
  for (let step = 0; step < 144; step++) {
    for (const c of channels) {
      if (rand() < 0.35) {
        const t = sim.createTweet({
          authorId: pick(customers),
          text: `@${c.channel.account!.username} help ${step}`,
        });
        mentions.push({ channelId: c.channel.id, id: t.id });
      }
      if (rand() < 0.15) {
        const dm = sim.sendDm({ senderId: pick(customers), recipientId: c.accountId, text: `order ${step}` });
        dmConversations.push({ channelId: c.channel.id, conversationId: dm.conversationId });
      }
    }
    if (rand() < 0.05)
      sim.sendChat({ senderId: pick(customers), recipientId: a.accountId, text: `chat ${step}` });
    await sim.deliveriesIdle();
    // the case system answers some of it
    if (mentions.length && rand() < 0.3) {
      const m = pick(mentions);
      await sender.send({
        schema: 'x-channel.outbound.v1',
        idempotencyKey: `k${commands++}`,
        channelId: m.channelId,
        kind: 'reply',
        targetId: m.id,
        text: `We are on it (${step})`,
      });
    }
    if (dmConversations.length && rand() < 0.2) {
      const d = pick(dmConversations);
      await sender.send({
        schema: 'x-channel.outbound.v1',
        idempotencyKey: `k${commands++}`,
        channelId: d.channelId,
        kind: 'dm',
        targetId: d.conversationId,
        text: `Your order is on its way (${step})`,
      });
    }
    if (rand() < 0.05) {
      await sender.send({
        schema: 'x-channel.outbound.v1',
        idempotencyKey: `k${commands++}`,
        channelId: pick(channels).channel.id,
        kind: 'post',
        text: rand() < 0.5 ? `Status update ${step}` : `Status ${step}: https://status.example.com/${step}`,
      });
    }
    await sender.drain();
    await h.tick();
    world.clock.advance(10 * 60_000);
  }
  await sim.deliveriesIdle();
  await h.tick();

  // Assess: X's bill and the meter agree to the cent, per channel sums making up the app's month
  const bill = sim.billing();
  const ledger = createDynamoSpendLedger({ client: aws.clients.doc, tableName: aws.tableName });
  let channelMicros = 0;
  for (const id of [a.channel.id, b.channel.id, UNROUTED_CHANNEL]) {
    channelMicros += sumDays(await ledger.days(id, '2026-09')).micros;
  }
  const app = await ledger.appMonth('2026-09');
  expect(bill.costUsd).toBeGreaterThan(0.5);
  expect(Math.round(app.micros / 10_000)).toBe(Math.round(bill.costUsd * 100));
  expect(app.micros).toBe(Math.round(bill.costUsd * 1_000_000));
  expect(channelMicros).toBe(app.micros);
  // and per kind: what X counted is what the meter counted
  expect(app.counts.postRead ?? 0).toBe(bill.reads.posts);
  expect(app.counts.ownedRead ?? 0).toBe(bill.reads.ownedPosts);
  expect(bill.reads.ownedPosts).toBeGreaterThan(0);
  expect(app.counts.dmEventRead ?? 0).toBe(bill.reads.dmEvents);
  expect(app.counts.reply ?? 0).toBe(bill.writes.replies);
  expect(app.counts.dm ?? 0).toBe(bill.writes.dms);
  expect((app.counts.post ?? 0) + (app.counts.postWithUrl ?? 0)).toBe(
    bill.writes.posts + bill.writes.postsWithUrl,
  );
  for (const [eventType, n] of Object.entries(bill.events))
    expect(app.counts[`ev:${eventType}`] ?? 0).toBe(n);
}
