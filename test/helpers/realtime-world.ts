/**
 * One seeded real-time fault run for the reliability suite and the soak: channels with X Activity API
 * subscriptions at the simulated X, the real webhook function behind the local HTTP host, its watch
 * (outages → replay), the poller as the reconciliation path, DynamoDB Local and an SQS stand-in of
 * the run's own whose clock is the simulated one (so FIFO's 5-minute dedup cannot hide a duplicate
 * that arrives simulated minutes later). Customers write mentions and DMs for about two simulated
 * hours, under these faults:
 * - `drop` (10% of live deliveries) and `duplicate` (5%): X's delivery engine, seeded;
 * - `endpoint_outage`: the webhook function is down for 30 minutes (502 to X, no watch ticks);
 * - `crash_before_ack`: the function published (queue and ledger) and died before its 200;
 * - `crash_after_publish`: the function died the moment SQS took its messages, before the delivered
 *   ledger's record (a process death: none of that invocation's later AWS calls happen, X gets a 502
 *   and does not retry); the ledger's sweep, on the function's schedule every minute, settles it;
 * - `subscription_lost`: one channel's mention subscription disappears at X.
 * Each fault is counted when it fires (a dropped or duplicated event, a delivery refused during the
 * outage, a crash that swallowed a 200, an item X created no event for), never when armed.
 *
 * The truth is the simulated X's own record of what was posted (every mention naming a channel's
 * account, every DM to it): each must reach the inbound queue exactly once per (channelId, id).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createAwsClients } from '../../adapters/aws/clients';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoRealtimeStore } from '../../adapters/aws/dynamo-realtime';
import { keys } from '../../adapters/aws/table';
import type { HeldSubscription } from '../../core/channel';
import { wantedFor } from '../../core/realtime/subscriptions';
import type { WatchReport } from '../../core/realtime/watch';
import { createApp as createWebhookApp } from '../../lambdas/webhook/app';
import { compose as composeWebhook } from '../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../lambdas/webhook/config';
import { createLogger } from '../../lambdas/shared/logger';
import { httpRoutes } from '../../local/handlers';
import { startHttpHost, type HttpHandler } from '../../local/http-host';
import { createQueueWithDlq, startSqs } from '../../stand-ins/sqs';
import { QUEUES, type QueueRole } from '../../adapters/aws/queues';
import type { QueueWithDlq } from '../../stand-ins/sqs';
import { startSimX } from '../../sim/x/server';
import { clockOf, connectChannel, startInboundHarness } from '../integration/inbound/harness';
import { API_KEY, API_KEY_SECRET, CLIENT_ID, CLIENT_SECRET, signIn } from '../integration/sim-x/helpers';
import { appBearerToken, call } from '../integration/sim-x/xaa-helpers';
import type { LocalAws } from './local-aws';
import { createXAppSecret } from './realtime-channel';
import { createRng } from './reliability-world';

/** One webhook invocation's life (one storage for the process: each enabled one costs every promise). */
const invocation = new AsyncLocalStorage<{ dead: boolean }>();

export const REALTIME_FAULTS = [
  'drop',
  'duplicate',
  'endpoint_outage',
  'crash_before_ack',
  'crash_after_publish',
  'subscription_lost',
] as const;
export type RealtimeFault = (typeof REALTIME_FAULTS)[number];

export interface RealtimeRunReport {
  seed: number;
  /** Items X holds for the channels (the truth). */
  items: number;
  faults: Partial<Record<RealtimeFault, number>>;
  /** `<channelId> <id>` posted at X that never reached the queue. */
  lost: string[];
  /** `<channelId> <id>` that reached the queue more than once. */
  duplicated: string[];
  /** Messages for items X does not hold for that channel. */
  unexpected: string[];
  /** Replay jobs X accepted; outage windows by reason; polls that ran. */
  replayJobs: number;
  outages: Partial<Record<string, number>>;
  polls: number;
  /** Windows or a job still open at the end, and held deliveries never settled (every gap must be filled). */
  unfilled: number;
  /** The ledger's sweep: held deliveries it published again inside / after SQS's dedup window. */
  republished: number;
  unproven: number;
}

export const realtimeFailureCount = (r: RealtimeRunReport) =>
  r.lost.length + r.duplicated.length + r.unexpected.length + r.unfilled + r.unproven;

const MINUTE = 60_000;
const START_MS = Date.UTC(2026, 8, 1, 12, 0, 0);

/** Forgets the app-wide real-time items (runs share one table). */
async function clearRealtimeItems(aws: LocalAws) {
  const { doc } = aws.clients;
  for (const pk of ['RT#OUTAGE', 'RT#REPLAY', 'RT#APP', keys.deliveredPending('', '', '').pk]) {
    const res = await doc.send(
      new QueryCommand({
        TableName: aws.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    for (const it of res.Items ?? [])
      await doc.send(new DeleteCommand({ TableName: aws.tableName, Key: { pk, sk: it.sk } }));
  }
}

export async function runRealtimeSeed(
  aws: LocalAws,
  options: { seed: number; minutes?: number; channels?: number },
): Promise<RealtimeRunReport> {
  const rng = createRng(options.seed);
  const minutes = options.minutes ?? 120;
  const report: RealtimeRunReport = {
    seed: options.seed,
    items: 0,
    faults: {},
    lost: [],
    duplicated: [],
    unexpected: [],
    replayJobs: 0,
    outages: {},
    polls: 0,
    unfilled: 0,
    republished: 0,
    unproven: 0,
  };
  const fired = (k: RealtimeFault, n = 1) => {
    if (n > 0) report.faults[k] = (report.faults[k] ?? 0) + n;
  };
  let nowMs = START_MS;
  const sim = await startSimX({ port: 0, clock: { now: () => nowMs }, random: () => rng.next() });
  // the run's own SQS on the simulated clock: dedup windows, visibility and retention move with it
  const sqs = await startSqs({ port: 0, region: aws.region, credentials: aws.credentials, now: () => nowMs });
  const clients = createAwsClients({
    region: aws.region,
    endpoints: { ...aws.endpoints, sqs: sqs.endpoint },
    credentials: aws.credentials,
  });
  const runAws: LocalAws = {
    ...aws,
    endpoints: { ...aws.endpoints, sqs: sqs.endpoint },
    clients,
    async createQueues(suffix = `-${randomUUID().slice(0, 8)}`) {
      const entries = await Promise.all(
        Object.values(QUEUES).map(
          async (spec) => [spec.role, await createQueueWithDlq(clients.sqs, spec, suffix)] as const,
        ),
      );
      return Object.fromEntries(entries) as Record<QueueRole, QueueWithDlq>;
    },
  };
  const stops: Array<() => Promise<unknown> | void> = [
    () => sim.stop(),
    () => sqs.stop(),
    () => clients.sqs.destroy(),
  ];
  try {
    sim.registerApp({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      apiKey: API_KEY,
      apiKeySecret: API_KEY_SECRET,
      name: 'Real-time reliability',
      redirectUris: ['http://127.0.0.1:9/oauth/callback'],
    });
    await clearRealtimeItems(aws);
    const secretId = `x-channel/rt-${options.seed}-${randomUUID().slice(0, 6)}`;
    await createXAppSecret(runAws, secretId);
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    // the channels' polls run at the reconciliation cadence real time gives them (core/inbound/planner.ts
    // `withRealtime`): mentions every 15 minutes; DMs every 20 (the default 6 h is longer than a run)
    const h = await startInboundHarness(runAws, sim, { env: { XAA_RECONCILE_DMS_MINUTES: '20' } });
    const logger = createLogger({ logLevel: 'ERROR' });
    // one webhook invocation's life: after `crash_after_publish` it is dead, and every later AWS call
    // it makes fails (siblings run in other containers, so the death is per invocation)
    const dying = { rate: 0 };
    /**
     * While X replays (from a job's start to its `replay_job_status`) the function dies at a fifth of
     * the live rate: at 5 % a replay of an hour's ~60 events completed 1 time in 20 (0.95^60), so the
     * sweep replayed its whole span again every minute until the faults stopped (1,000+ replayed
     * deliveries a seed, most of its run time) and never completed under faults; at 1 % it completes
     * about half the time and fails the rest, so both paths run while X drops and duplicates.
     */
    const replay = { running: false };
    const lethal = (rate: number) => (replay.running ? rate / 5 : rate);
    const deadly = <C extends { send: (...args: any[]) => Promise<any> }>(client: C): C =>
      new Proxy(client, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return (command: any) => {
            if (invocation.getStore()?.dead) return Promise.reject(new Error('injected: process is dead'));
            return target.send(command);
          };
        },
      });
    const webhookClients = { ...clients, doc: deadly(clients.doc), sqs: deadly(clients.sqs) };
    const runtime = composeWebhook(
      loadWebhookConfig({
        AWS_REGION: aws.region,
        TABLE_NAME: aws.tableName,
        X_APP_SECRET_ID: secretId,
        INBOUND_QUEUE_URL: h.queues.inbound.url,
        X_API_BASE_URL: sim.url,
      }),
      {
        clients: webhookClients,
        clock: clockOf(sim),
        logger,
        wrapPublisher: (p) => ({
          async publish(messages) {
            await p.publish(messages);
            const life = invocation.getStore();
            if (life && rng.chance(lethal(dying.rate))) {
              life.dead = true;
              fired('crash_after_publish');
              throw new Error('injected: process died after SQS took the messages');
            }
          },
        }),
      },
    );
    const app = createWebhookApp(runtime) as unknown as HttpHandler;
    const gate = { down: false, crashRate: 0 };
    const gated: HttpHandler = async (event, context) => {
      const method = event.requestContext?.http?.method;
      if (gate.down) {
        if (method === 'POST') fired('endpoint_outage');
        return { statusCode: 502, body: '' };
      }
      const life = { dead: false };
      const answer = (await invocation.run(life, () => app(event, context))) as { statusCode?: number };
      if (life.dead) return { statusCode: 502, body: '' };
      if (method === 'POST' && String(event.body ?? '').includes('"replay_job_status"'))
        replay.running = false;
      else if (method === 'POST' && answer?.statusCode === 200 && rng.chance(lethal(gate.crashRate))) {
        // the function published and recorded, then died: X never sees the 200
        fired('crash_before_ack');
        return { statusCode: 502, body: '' };
      }
      return answer;
    };
    const host = await startHttpHost({
      routes: httpRoutes({ webhook: gated }),
      adminToken: 'unused-admin-token-0123456789',
    });
    stops.unshift(() => host.stop());

    // ---- channels and their subscriptions ----------------------------------------------------------
    const bearer = await appBearerToken(sim);
    const hook = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${host.url}/x/webhook` });
    if (hook.status !== 200) throw new Error(`webhook registration failed: ${hook.status}`);
    const webhookId = String(hook.body.data.id);
    const store = createDynamoChannelStore({ client: clients.doc, tableName: aws.tableName });
    const realtimeStore = createDynamoRealtimeStore({ client: clients.doc, tableName: aws.tableName });
    const channels: Array<{ id: string; accountId: string; username: string; mentionSub: string }> = [];
    for (let i = 0; i < (options.channels ?? 2); i++) {
      const username = `rt${options.seed.toString(36)}c${i}${randomUUID().slice(0, 4)}`;
      const connected = await connectChannel(runAws, sim, username);
      await store.claimAccount(connected.accountId, connected.channel.id);
      // each run's simulated X starts its ids afresh: free the account for the next run
      stops.unshift(() => store.releaseAccount(connected.accountId, connected.channel.id));
      const login = await signIn(sim, username);
      let mentionSub = '';
      const held: HeldSubscription[] = [];
      for (const eventType of wantedFor(connected.channel).types) {
        const sub = await call(sim, 'POST', '/2/activity/subscriptions', login.accessToken, {
          event_type: eventType,
          filter: { user_id: connected.accountId },
          webhook_id: webhookId,
        });
        if (sub.status >= 300) throw new Error(`subscription refused: ${sub.status}`);
        const id = String(sub.body.data.subscription.subscription_id);
        held.push({ id, eventType });
        if (eventType === 'post.mention.create') mentionSub = id;
      }
      // what the sign-in's sync records: real time on for both streams, so the polls only reconcile
      await realtimeStore.save(connected.channel.id, {
        state: 'on',
        reasonCode: null,
        reason: null,
        mentions: true,
        dms: true,
        subscriptions: held,
        checkedAt: new Date(nowMs).toISOString(),
      });
      channels.push({ id: connected.channel.id, accountId: connected.accountId, username, mentionSub });
    }
    const customers = Array.from(
      { length: 3 },
      (_, i) =>
        sim.createUser({ username: `cust${options.seed.toString(36)}${i}`, name: `Customer ${i}` }).id,
    );

    // ---- the schedule of faults ---------------------------------------------------------------------
    sim.setDelivery({ delayMs: 0, dropRate: 0.1, duplicateRate: 0.05 });
    const outageStart = rng.int(10, minutes - 50);
    const lostSubAt = rng.int(5, minutes - 20);
    const lostSubChannel = rng.pick(channels);
    gate.crashRate = 0.05;
    dying.rate = 0.05;
    let subscriptionGone = false;

    const expected = new Map<string, number>(); // `<channelId> <id>` → 0
    const received = new Map<string, number>();
    const take = async () => {
      for (const m of await h.drainInbound()) {
        const key = `${m.channelId} ${m.id}`;
        received.set(key, (received.get(key) ?? 0) + 1);
      }
    };
    /** The ledger's sweep: the same scheduled invocation as the watch, but on while the endpoint is down too. */
    const settle = async () => {
      const r = await runtime.settlePending();
      report.republished += r.republished;
      report.unproven += r.unproven;
    };
    const watch = async () => {
      const r: WatchReport = await runtime.watch();
      for (const reason of r.opened) report.outages[reason] = (report.outages[reason] ?? 0) + 1;
      if (r.started) {
        report.replayJobs++;
        replay.running = true;
      }
    };
    const control = async (path: string, body: unknown) => {
      const res = await fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${path} answered ${res.status}`);
      return (await res.json()) as { id: string };
    };

    for (let minute = 0; minute < minutes; minute++) {
      nowMs += MINUTE;
      const down = minute >= outageStart && minute < outageStart + 30;
      gate.down = down;
      if (minute === lostSubAt) {
        const del = await call(
          sim,
          'DELETE',
          `/2/activity/subscriptions/${lostSubChannel.mentionSub}`,
          bearer,
        );
        if (del.status >= 300) throw new Error(`subscription delete failed: ${del.status}`);
        subscriptionGone = true;
      }
      // customers write
      for (let n = rng.int(0, 2); n > 0; n--) {
        const target = rng.pick(channels);
        const author = rng.pick(customers);
        if (rng.chance(0.6)) {
          const t = await control('/_sim/tweets', {
            authorId: author,
            text: `@${target.username} m${minute}`,
          });
          expected.set(`${target.id} x:tweet:${t.id}`, 0);
          if (subscriptionGone && target === lostSubChannel) fired('subscription_lost');
        } else {
          const d = await control('/_sim/dms', {
            senderId: author,
            recipientId: target.accountId,
            text: `d${minute}`,
          });
          expected.set(`${target.id} x:dm:${d.id}`, 0);
        }
      }
      await sim.deliveriesIdle();
      if (!down) await watch();
      await settle();
      await sim.deliveriesIdle();
      // reconciliation polls at the poller's own cadence (the channels' due times)
      if (minute % 5 === 0) {
        const t = await h.tick();
        report.polls += t.jobs;
      }
      await take();
    }

    // ---- the end: everything up, time for the watch and the reconciliation to finish -------------
    gate.down = false;
    gate.crashRate = 0;
    dying.rate = 0;
    sim.setDelivery({ dropRate: 0, duplicateRate: 0 });
    for (let i = 0; i < 30; i++) {
      nowMs += MINUTE;
      await watch();
      await settle();
      await sim.deliveriesIdle();
      if (i % 5 === 0) report.polls += (await h.tick()).jobs;
      await take();
    }
    const open = await runtime.realtime.outages();
    const held = await runtime.deps.publisher.settlePending();
    report.unfilled =
      open.length + ((await runtime.realtime.currentJob()) ? 1 : 0) + held.pending - held.alreadyDelivered;

    for (const d of sim.deliveries(webhookId)) {
      if (d.dropped) fired('drop');
      fired('duplicate', d.attempts.filter((a) => a.mode === 'duplicate').length);
    }
    report.items = expected.size;
    for (const key of expected.keys()) {
      const n = received.get(key) ?? 0;
      if (n === 0) report.lost.push(key);
      if (n > 1) report.duplicated.push(key);
    }
    for (const [key, n] of received) {
      if (!expected.has(key)) report.unexpected.push(key);
      else if (n > 1 && !report.duplicated.includes(key)) report.duplicated.push(key);
    }
    return report;
  } finally {
    for (const stop of stops) await Promise.resolve(stop()).catch(() => undefined);
  }
}

/** One line per failed run, for the log. */
export function describeRealtimeFailure(r: RealtimeRunReport): string {
  return `real-time seed ${r.seed}: lost ${r.lost.length}, duplicated ${r.duplicated.length}, unexpected ${r.unexpected.length}, unfilled ${r.unfilled}, republished ${r.republished}, unproven ${r.unproven} (faults ${JSON.stringify(r.faults)}, outages ${JSON.stringify(r.outages)}, replay jobs ${r.replayJobs}, polls ${r.polls}) — rerun: XC_REALTIME_SEED=${r.seed}`;
}
