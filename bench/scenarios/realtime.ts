/**
 * Scenario: real time by webhook (X Activity API). The real webhook function (lambdas/webhook) behind
 * the local HTTP host as API Gateway would call it, registered at the simulated X as the app's webhook
 * (`POST /2/webhooks` with the app-only bearer token, CRC answered by the function), channels signed in
 * through the real sign-in use cases and holding XAA subscriptions (`post.mention.create`,
 * `dm.received`) made with each channel's own token. Then a steady trickle of mentions and DMs at the
 * simulated X (pay-per-use plan, the X latency profile on every API call; X delivers each event signed
 * after its delivery delay, `GET /_sim/delivery`).
 *
 * - `endToEndP99Ms`: created at X → the message is on the inbound queue (the publish call returned),
 *   by webhook; no poller runs, so nothing else can bring an item;
 * - `ackP99Ms`: the webhook request reaching the function → its 200 (the function's own time, which
 *   is what X waits for besides the network);
 * - `cpuMsPerEvent`: the webhook function's process CPU per event (bench/cpu.ts);
 * - AWS usage per event (Lambda, SQS, DynamoDB delivered-ids ledger), priced in the cost model.
 *
 * Subscriptions: made by the product's own path — after each sign-in the real-time sync the OAuth
 * callback runs (lambdas/api/realtime.ts → core/realtime/subscriptions.ts `syncChannel`, X's
 * subscription API with the channel's token, for the deployment's webhook) — `subscriptionsBy:
 * 'sign-in'`. Should that leave a channel without its subscriptions, the bench creates the missing ones
 * through X's subscription API itself and says so (`subscriptionsBy: 'bench'`).
 */
import { createApp as createWebhookApp } from '../../lambdas/webhook/app';
import { compose as composeWebhook } from '../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../lambdas/webhook/config';
import { startHttpHost, type HttpHandler } from '../../local/http-host';
import { registerLocalWebhook } from '../../local/xaa-webhook';
import { HANDLERS } from '../../lib/handlers';
import type { InboundMessage } from '../../contracts';
import { mapLimit } from '../../core/inbound/concurrency';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoLeaseStore } from '../../adapters/aws/dynamo-lease';
import { createSecretsAppCredentials } from '../../adapters/aws/secrets-app-credentials';
import { createSecretsTokenVault } from '../../adapters/aws/secrets-token-vault';
import { createXOAuth } from '../../adapters/x/oauth';
import { syncChannel } from '../../core/realtime/subscriptions';
import { createTokenProvider } from '../../core/tokens';
import { composeRealtime } from '../../lambdas/shared/realtime';
import type { ScenarioContext } from '../types';
import { priceUsage } from '../counting';
import { HandlerCpuMeter } from '../cpu';
import { captureLogBytes } from '../log-bytes';
import { createLogger } from '../../lambdas/shared/logger';
import {
  BenchClock,
  benchLogger,
  channelAccessToken,
  connectChannels,
  percentile,
  round,
  startRig,
  waitFor,
  type BenchChannel,
  type Rig,
} from '../rig';

export interface RealtimeResult {
  endToEndP50Ms: number | null;
  endToEndP95Ms: number | null;
  endToEndP99Ms: number | null;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  created: number;
  delivered: number;
  lost: number;
  duplicates: number;
  webhookRequests: number;
  non200: number;
  channels: number;
  /** X's delivery delay the simulator applied (ms). */
  deliveryDelayMs: number;
  subscriptionsBy: 'sign-in' | 'bench';
  cpuMsPerEvent: number | null;
  /** AWS requests measured per event, priced (Lambda, SQS, DynamoDB); API Gateway is in the cost model. */
  awsUsdPerMillionEvents: number | null;
  webhookBilledMsPerEvent: number | null;
  /** AWS requests per event by `service:Command`, and X API calls the webhook made meanwhile. */
  awsRequestsPerEvent: Record<string, number>;
  xRequestsDuring: number;
  /** JSON log bytes (INFO lines, EMF) the webhook writes per event. */
  logBytesPerEvent: number | null;
  missing?: string;
}

const EVENT_TYPES = ['post.mention.create', 'dm.received'] as const;

/** Subscriptions the channels hold at X, creating the missing ones with each channel's token. */
async function ensureSubscriptions(
  rig: Rig,
  channels: BenchChannel[],
  webhookId: string,
): Promise<'sign-in' | 'bench'> {
  const held = async (accountId: string) => {
    const res = await fetch(`${rig.sim.url}/_sim/subscriptions?userId=${accountId}`);
    const body = (await res.json()) as { data: { eventType: string }[] };
    return new Set(body.data.map((s) => s.eventType));
  };
  const first = await held(channels[0].accountId);
  if (EVENT_TYPES.every((t) => first.has(t))) return 'sign-in';
  await mapLimit(channels, 8, async (ch) => {
    const have = await held(ch.accountId);
    const token = await channelAccessToken(rig, ch.channelId);
    for (const eventType of EVENT_TYPES.filter((t) => !have.has(t))) {
      const res = await fetch(`${rig.sim.url}/2/activity/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          event_type: eventType,
          filter: { user_id: ch.accountId },
          webhook_id: webhookId,
        }),
      });
      if (!res.ok) throw new Error(`bench: subscribing ${eventType} answered ${res.status}`);
    }
  });
  return 'bench';
}

export async function benchRealtime(ctx: ScenarioContext): Promise<RealtimeResult> {
  const channelsN = ctx.tiny ? 2 : ctx.quick ? 5 : 20;
  const realSeconds = ctx.tiny ? 3 : ctx.quick ? 8 : 30;
  // real time runs on the wall clock: the bench clock at speed 1
  const clock = new BenchClock(Date.now(), 1);
  const rig = await startRig({
    dynamodbEndpoint: ctx.dynamodbEndpoint,
    tier: 'pay-per-use',
    xLatency: ctx.xLatency,
    clock,
  });
  const stops: Array<() => Promise<unknown>> = [];
  const logs = captureLogBytes();
  const metricsWere = process.env.POWERTOOLS_METRICS_DISABLED;
  // as deployed: INFO logs and EMF metrics on, their bytes counted (and swallowed) for the cost model
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  try {
    const published = new Map<string, number[]>();
    const cpu = new HandlerCpuMeter();
    const runtime = composeWebhook(loadWebhookConfig(rig.env), {
      clients: rig.clients,
      clock: clock.port,
      logger: createLogger({ serviceName: 'x-channel', logLevel: 'INFO' }),
      wrapPublisher: (inner) => ({
        async publish(messages: InboundMessage[]) {
          await inner.publish(messages);
          const at = performance.now();
          for (const m of messages) published.set(m.id, [...(published.get(m.id) ?? []), at]);
        },
      }),
    });
    const app = createWebhookApp(runtime) as unknown as HttpHandler;
    const acks: number[] = [];
    let non200 = 0;
    let posts = 0;
    const handler: HttpHandler = async (event, context) => {
      const t0 = performance.now();
      const result = (await cpu.run(() => app(event, context))) as { statusCode?: number };
      const ms = performance.now() - t0;
      if (event.requestContext.http.method === 'POST') {
        posts++;
        rig.meter.invocation('webhook', ms);
        acks.push(ms);
        if (result?.statusCode !== 200) non200++;
      }
      return result;
    };
    const host = await startHttpHost({
      routes: [
        { method: 'GET', path: '/x/webhook', auth: false, handler, functionName: 'webhook' },
        { method: 'POST', path: '/x/webhook', auth: false, handler, functionName: 'webhook' },
      ],
      adminToken: `bench-${'x'.repeat(20)}`,
      logger: benchLogger,
    });
    stops.push(() => host.stop());
    ctx.progress('realtime: registering the webhook');
    const hook = await registerLocalWebhook({
      xBaseUrl: rig.sim.url,
      apiKey: rig.xApp.apiKey,
      apiKeySecret: rig.xApp.apiKeySecret,
      webhookUrl: `${host.url}/x/webhook`,
    });
    ctx.progress(`realtime: connecting ${channelsN} channels`);
    const channels = await connectChannels(rig, channelsN, undefined, 'rt');
    // the product's path: what the OAuth callback runs after a sign-in (lambdas/api/realtime.ts)
    {
      const store = createDynamoChannelStore({
        client: rig.clients.doc,
        tableName: rig.tableName,
        clock: clock.port,
      });
      const tokens = createTokenProvider({
        vault: createSecretsTokenVault({ client: rig.clients.secrets, prefix: rig.env.TOKEN_SECRET_PREFIX }),
        leases: createDynamoLeaseStore({
          client: rig.clients.doc,
          tableName: rig.tableName,
          clock: clock.port,
        }),
        oauth: createXOAuth({
          apiBaseUrl: rig.sim.url,
          authorizeUrl: rig.env.X_AUTHORIZE_URL,
          credentials: createSecretsAppCredentials({
            client: rig.clients.secrets,
            secretId: rig.env.X_APP_SECRET_ID,
          }),
        }),
        channels: store,
        clock: clock.port,
      });
      const realtime = composeRealtime({
        config: {
          TABLE_NAME: rig.tableName,
          X_API_BASE_URL: rig.sim.url,
          X_APP_SECRET_ID: rig.env.X_APP_SECRET_ID,
          X_TIER: 'pay-per-use',
          WEBHOOK_PUBLIC_URL: `${host.url}/x/webhook`,
        },
        clients: rig.clients,
        tokens,
        clock: clock.port,
      });
      await mapLimit(channels, 8, async (ch) => {
        const channel = await store.get(ch.channelId);
        if (channel) await syncChannel(realtime, channel);
      });
    }
    const subscriptionsBy = await ensureSubscriptions(rig, channels, hook.id);
    const customer = rig.sim.createUser({ username: `rt_${Date.now() % 1e6}`, name: 'Real-time customer' });
    await rig.sim.deliveriesIdle();
    // measure from here: nothing before counts
    acks.length = 0;
    posts = 0;
    non200 = 0;
    published.clear();
    rig.meter.reset();
    logs.reset();
    const xBefore = rig.sim.requests();
    cpu.enable();
    const created = new Map<string, number>();
    const end = performance.now() + realSeconds * 1000;
    for (let i = 0; performance.now() < end; i++) {
      const ch = channels[i % channels.length];
      if (i % 2 === 0) {
        const t = rig.sim.createTweet({ authorId: customer.id, text: `@${ch.username} real time ${i}` });
        created.set(`x:tweet:${t.id}`, performance.now());
      } else {
        const d = rig.sim.sendDm({
          senderId: customer.id,
          recipientId: ch.accountId,
          text: `real time ${i}`,
        });
        created.set(`x:dm:${d.id}`, performance.now());
      }
      ctx.progress(`realtime: ${created.size} created, ${published.size} on the queue`);
      await new Promise((r) => setTimeout(r, 40 + Math.random() * 80));
    }
    await waitFor(() => [...created.keys()].every((id) => published.has(id)), 30_000, 20);
    await rig.sim.deliveriesIdle();
    cpu.disable();
    const usage = rig.meter.snapshot();
    const xAfter = rig.sim.requests();
    const xRequestsDuring = Object.entries(xAfter).reduce(
      (s, [k, v]) => s + (k.includes('/2/') ? v - (xBefore[k] ?? 0) : 0),
      0,
    );
    const e2e: number[] = [];
    let duplicates = 0;
    for (const [id, at] of created) {
      const times = published.get(id);
      if (!times) continue;
      e2e.push(times[0] - at);
      duplicates += times.length - 1;
    }
    const asc = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const p = (xs: number[], q: number) => {
      const v = percentile(asc(xs), q);
      return v === null ? null : Math.round(v);
    };
    const events = e2e.length;
    const memoryMb = { webhook: HANDLERS.webhook.memoryMb };
    const cost = priceUsage(usage, memoryMb);
    const delivery = (await (await fetch(`${rig.sim.url}/_sim/delivery`)).json()) as { delayMs: number };
    return {
      endToEndP50Ms: p(e2e, 50),
      endToEndP95Ms: p(e2e, 95),
      endToEndP99Ms: p(e2e, 99),
      ackP50Ms: p(acks, 50),
      ackP99Ms: p(acks, 99),
      created: created.size,
      delivered: events,
      lost: created.size - events,
      duplicates,
      webhookRequests: posts,
      non200,
      channels: channelsN,
      deliveryDelayMs: delivery.delayMs,
      subscriptionsBy,
      cpuMsPerEvent: events ? round(cpu.ms() / events, 3) : null,
      awsUsdPerMillionEvents: events ? round((cost.total / events) * 1e6, 4) : null,
      webhookBilledMsPerEvent: events ? round((usage.lambdaBilledMs.webhook ?? 0) / events, 1) : null,
      awsRequestsPerEvent: Object.fromEntries(
        Object.entries(usage.requests).map(([k, v]) => [k, round(v / Math.max(1, events), 2)]),
      ),
      xRequestsDuring,
      logBytesPerEvent: events ? Math.round(logs.bytes() / events) : null,
    };
  } finally {
    logs.stop();
    process.env.POWERTOOLS_METRICS_DISABLED = metricsWere ?? 'true';
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rig.stop();
  }
}
