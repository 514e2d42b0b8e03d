/**
 * The arrange step of the real-time integration tests (webhook, replay, DM media): one channel with real
 * time on, as the deploy and the sign-in leave it — connected and its account claimed, a customer at the
 * simulated X, the real webhook function behind the local HTTP host registered at X (its CRC answered),
 * and the channel's X Activity API subscriptions created with the user's token.
 *
 * @example
 * const world = useInboundWorld();
 * beforeAll(() => createXAppSecret(world.aws, SECRET_ID));
 * beforeEach(async () => {
 *   h = await startInboundHarness(world.aws, world.sim);
 *   rt = await arrangeRealtimeChannel(world, { webhook: webhookHandler(composeTestWebhook(world, h, SECRET_ID)) });
 * });
 * afterEach(() => releaseRealtimeChannel(world, rt));
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import type { InboundPublisher } from '../../core/inbound/types';
import { createApp as createWebhookApp } from '../../lambdas/webhook/app';
import { compose as composeWebhook, type WebhookRuntime } from '../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../lambdas/webhook/config';
import { createLogger } from '../../lambdas/shared/logger';
import { httpRoutes } from '../../local/handlers';
import { startHttpHost, type HttpHandler, type HttpHost } from '../../local/http-host';
import {
  clockOf,
  connectChannel,
  type InboundHarness,
  type InboundWorld,
} from '../integration/inbound/harness';
import { API_KEY, API_KEY_SECRET, CLIENT_ID, CLIENT_SECRET, signIn } from '../integration/sim-x/helpers';
import { appBearerToken, call } from '../integration/sim-x/xaa-helpers';
import type { LocalAws } from './local-aws';

/** The X app secret the webhook function reads: its API key secret signs X's deliveries and CRC answers. */
export async function createXAppSecret(aws: LocalAws, secretId: string): Promise<void> {
  await aws.clients.secrets.send(
    new CreateSecretCommand({
      Name: secretId,
      SecretString: JSON.stringify({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        apiKey: API_KEY,
        apiKeySecret: API_KEY_SECRET,
      }),
    }),
  );
}

/**
 * The webhook function's runtime as the local runtime composes it, publishing to the harness's inbound
 * queue on the simulated X's clock, logging errors only. `xApiBaseUrl` points its X client (the watch's
 * replay calls) at the simulated X; `wrapPublisher` lets a test fail publishes.
 */
export function composeTestWebhook(
  world: InboundWorld,
  h: InboundHarness,
  secretId: string,
  options: {
    xApiBaseUrl?: string;
    wrapPublisher?: (p: InboundPublisher) => InboundPublisher;
    /** The poll-jobs queue for a DM with media (absent: it waits for the dispatcher's tick). */
    pollJobsQueueUrl?: string;
  } = {},
): WebhookRuntime {
  const { aws, sim } = world;
  return composeWebhook(
    loadWebhookConfig({
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      X_APP_SECRET_ID: secretId,
      INBOUND_QUEUE_URL: h.queues.inbound.url,
      ...(options.xApiBaseUrl ? { X_API_BASE_URL: options.xApiBaseUrl } : {}),
      ...(options.pollJobsQueueUrl ? { POLL_JOBS_QUEUE_URL: options.pollJobsQueueUrl } : {}),
    }),
    {
      clients: aws.clients,
      clock: clockOf(sim),
      logger: createLogger({ logLevel: 'ERROR' }),
      ...(options.wrapPublisher ? { wrapPublisher: options.wrapPublisher } : {}),
    },
  );
}

/** The webhook function's HTTP app, as the local HTTP host serves it. */
export const webhookHandler = (runtime: WebhookRuntime) =>
  createWebhookApp(runtime) as unknown as HttpHandler;

/** The webhook function alone behind the local HTTP host, at `/x/webhook`. */
export function startWebhookHost(webhook: HttpHandler): Promise<HttpHost> {
  return startHttpHost({ routes: httpRoutes({ webhook }), adminToken: 'unused-admin-token-0123456789' });
}

/** What {@link arrangeRealtimeChannel} set up. */
export interface RealtimeChannel {
  accountId: string;
  channelId: string;
  username: string;
  customerId: string;
  host: HttpHost;
  webhookId: string;
}

/** Every event type a channel listening to mentions and DMs subscribes to (oauth.revoke aside). */
export const CHANNEL_EVENT_TYPES = [
  'post.mention.create',
  'post.reply.create',
  'dm.received',
  'chat.received',
];

/**
 * One channel with real time on: connected and claimed (the webhook routes events by the claim), a
 * customer, `webhook` behind the local HTTP host registered at X (X's deliveries are neither delayed,
 * dropped nor duplicated) and the channel's subscriptions to `eventTypes` on it.
 */
export async function arrangeRealtimeChannel(
  world: InboundWorld,
  options: { webhook: HttpHandler; eventTypes?: readonly string[] },
): Promise<RealtimeChannel> {
  const { aws, sim } = world;
  const username = `acme${randomUUID().slice(0, 6)}`;
  const connected = await connectChannel(aws, sim, username);
  const accountId = connected.accountId;
  const channelId = connected.channel.id;
  // sign-in binds the account to the channel: the webhook routes events by that claim
  await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).claimAccount(
    accountId,
    channelId,
  );
  const customerId = sim.createUser({ username: `carla${randomUUID().slice(0, 6)}`, name: 'Carla' }).id;
  const host = await startWebhookHost(options.webhook);
  sim.setDelivery({ delayMs: 0, dropRate: 0, duplicateRate: 0 });

  // what the subscription lifecycle does at deploy and sign-in: one webhook, the channel's subscriptions
  const bearer = await appBearerToken(sim);
  const hook = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${host.url}/x/webhook` });
  expect(hook.status).toBe(200);
  expect(hook.body.data.valid).toBe(true); // the sim's CRC was answered by our GET /x/webhook
  const webhookId = String(hook.body.data.id);
  const login = await signIn(sim, username);
  for (const eventType of options.eventTypes ?? CHANNEL_EVENT_TYPES) {
    const sub = await call(sim, 'POST', '/2/activity/subscriptions', login.accessToken, {
      event_type: eventType,
      filter: { user_id: accountId },
      webhook_id: webhookId,
    });
    expect(sub.status).toBeLessThan(300);
  }
  return { accountId, channelId, username, customerId, host, webhookId };
}

/** Stops the channel's webhook host and frees its account: each test's simulated X starts its ids afresh. */
export async function releaseRealtimeChannel(
  world: InboundWorld,
  rt: RealtimeChannel | undefined,
): Promise<void> {
  if (!rt) return;
  await rt.host.stop();
  await createDynamoChannelStore({
    client: world.aws.clients.doc,
    tableName: world.aws.tableName,
  }).releaseAccount(rt.accountId, rt.channelId);
}

/** A POST to the simulated X's control API (a customer writes); answers ≥ 300 fail the test. */
export async function simPost(world: InboundWorld, path: string, body: unknown) {
  const res = await fetch(`${world.sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { id: string; conversationId: string };
}
