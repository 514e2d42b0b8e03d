/**
 * Real time end to end on one machine: the simulated X registers the real webhook function (behind the
 * local HTTP host, as `npm start` serves it) after its CRC, the channel's XAA subscriptions are created
 * with the user's token, and X's signed deliveries of a mention, a DM and an XChat message reach the
 * real inbound queue (SQS stand-in) through DynamoDB Local — once each, whatever X duplicates and
 * whatever the poller later reads again. Forged or unsigned posts are refused and publish nothing.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { signBody } from '../../../core/realtime/signing';
import { createApp as createWebhookApp } from '../../../lambdas/webhook/app';
import { compose as composeWebhook } from '../../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../../lambdas/webhook/config';
import { createLogger } from '../../../lambdas/shared/logger';
import type { HttpHost } from '../../../local/http-host';
import {
  arrangeRealtimeChannel,
  composeTestWebhook,
  createXAppSecret,
  releaseRealtimeChannel,
  simPost,
  startWebhookHost,
  webhookHandler,
  type RealtimeChannel,
} from '../../helpers/realtime-channel';
import { mentionEvent } from '../../helpers/xaa-events';
import { startInboundHarness, useInboundWorld, type InboundHarness } from '../inbound/harness';
import { API_KEY_SECRET } from '../sim-x/helpers';

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-xaa-${randomUUID().slice(0, 8)}`;

let h: InboundHarness;
let rt: RealtimeChannel | undefined;
let host: HttpHost;
let accountId: string;
let channelId: string;
let customerId: string;

beforeAll(() => createXAppSecret(world.aws, SECRET_ID));

beforeEach(async () => {
  rt = undefined;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  h = await startInboundHarness(world.aws, world.sim);
  rt = await arrangeRealtimeChannel(world, {
    webhook: webhookHandler(composeTestWebhook(world, h, SECRET_ID)),
  });
  ({ host, accountId, channelId, customerId } = rt);
});

afterEach(() => releaseRealtimeChannel(world, rt));

const control = (path: string, body: unknown) => simPost(world, path, body);

describe('X Activity API webhook', () => {
  it('delivers a mention, a DM and an XChat message to the inbound queue, each as polling would', async () => {
    // Act: a customer writes three ways
    const mention = await control('/_sim/tweets', {
      authorId: customerId,
      text: `@${(await channel()).username} help`,
    });
    const dm = await control('/_sim/dms', { senderId: customerId, recipientId: accountId, text: 'my order' });
    const chat = await control('/_sim/chats', {
      senderId: customerId,
      recipientId: accountId,
      text: 'secret',
    });
    await world.sim.deliveriesIdle();
    // Assess
    const messages = await h.drainInbound();
    const byId = Object.fromEntries(messages.map((m) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual(
      [`x:chat:${chat.id}`, `x:dm:${dm.id}`, `x:tweet:${mention.id}`].sort(),
    );
    const pair = [customerId, accountId].sort((a, b) => a.length - b.length || (a < b ? -1 : 1)).join('-');
    expect(byId[`x:tweet:${mention.id}`]).toMatchObject({
      channelId,
      kind: 'mention',
      conversationId: mention.conversationId,
      author: { id: customerId, name: 'Carla' },
      replyTo: { kind: 'reply', targetId: mention.id },
    });
    expect(byId[`x:dm:${dm.id}`]).toMatchObject({
      kind: 'dm',
      text: 'my order',
      conversationId: dm.conversationId,
      replyTo: { kind: 'dm', targetId: dm.conversationId },
    });
    expect(byId[`x:chat:${chat.id}`]).toMatchObject({
      kind: 'dm',
      encrypted: true,
      text: '',
      conversationId: pair,
      author: { id: customerId },
      replyTo: { kind: 'dm', targetId: customerId },
    });
    expect(JSON.stringify(messages)).not.toContain('secret');
  });

  it('publishes one message when X delivers every event twice', async () => {
    world.sim.setDelivery({ duplicateRate: 1 });
    const dm = await control('/_sim/dms', { senderId: customerId, recipientId: accountId, text: 'twice?' });
    await world.sim.deliveriesIdle();
    const posts = world.sim
      .deliveries()
      .filter((d) => d.objectId === dm.id)
      .flatMap((d) => d.attempts);
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.every((a) => a.status === 200)).toBe(true);
    expect((await h.drainInbound()).map((m) => m.id)).toEqual([`x:dm:${dm.id}`]);
  });

  it('publishes once a mention the webhook delivered and a later poll reads again', async () => {
    const mention = await control('/_sim/tweets', {
      authorId: customerId,
      text: `@${(await channel()).username} hi`,
    });
    await world.sim.deliveriesIdle();
    expect((await h.drainInbound()).map((m) => m.id)).toEqual([`x:tweet:${mention.id}`]);
    // the reconciliation poll reads the same mention from GET /2/users/:id/mentions (its checkpoint
    // moves past it) and publishes nothing: the ledger has it
    const { jobs } = await h.tick();
    expect(jobs).toBeGreaterThanOrEqual(1);
    const polled = await createDynamoChannelStore({
      client: world.aws.clients.doc,
      tableName: world.aws.tableName,
    }).get(channelId);
    expect(polled?.checkpoints.mentionsSinceId).toBe(mention.id);
    expect(await h.drainInbound()).toEqual([]);
  });

  it('refuses forged and unsigned posts with 401 and publishes nothing', async () => {
    const body = JSON.stringify(mentionEvent('1999999999999999999', {}, 'post.mention.create'));
    const forged = JSON.stringify({
      ...JSON.parse(body),
      data: { ...JSON.parse(body).data, filter: { user_id: accountId } },
    });
    for (const signature of [undefined, 'sha256=AAAA', signBody(forged, 'not-the-api-key-secret')]) {
      const res = await fetch(`${host.url}/x/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signature ? { 'x-twitter-webhooks-signature': signature } : {}),
        },
        body: forged,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    // the same body signed with the real secret is taken: the refusals were the signature's doing
    const signed = await fetch(`${host.url}/x/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twitter-webhooks-signature': signBody(forged, API_KEY_SECRET),
      },
      body: forged,
    });
    expect(signed.status).toBe(200);
    expect((await h.drainInbound()).map((m) => m.id)).toEqual(['x:tweet:1999999999999999999']);
  });

  it('answers X’s CRC and refuses to sign anything else', async () => {
    const token = Buffer.from(randomUUID()).toString('base64');
    const ok = await fetch(`${host.url}/x/webhook?crc_token=${encodeURIComponent(token)}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ response_token: signBody(token, API_KEY_SECRET) });
    const oracle = await fetch(
      `${host.url}/x/webhook?crc_token=${encodeURIComponent('{"data":{"event_type":"x"}}')}`,
    );
    expect(oracle.status).toBe(400);
    expect(await oracle.text()).not.toContain('sha256=');
  });

  it('takes a base64-encoded body and refuses one over the size limit with 413', async () => {
    const raw = JSON.stringify({
      ...mentionEvent('1888888888888888888'),
      data: { ...mentionEvent('1888888888888888888').data, filter: { user_id: accountId } },
    });
    const handler = createWebhookApp(
      composeWebhook(
        loadWebhookConfig({
          AWS_REGION: world.aws.region,
          TABLE_NAME: world.aws.tableName,
          X_APP_SECRET_ID: SECRET_ID,
          INBOUND_QUEUE_URL: h.queues.inbound.url,
          WEBHOOK_MAX_BODY_BYTES: '4096',
        }),
        { clients: world.aws.clients, logger: createLogger({ logLevel: 'ERROR' }) },
      ),
    );
    const event = (body: string, isBase64Encoded: boolean, signature: string) =>
      ({
        version: '2.0',
        routeKey: 'POST /x/webhook',
        rawPath: '/x/webhook',
        rawQueryString: '',
        headers: { 'x-twitter-webhooks-signature': signature },
        requestContext: { http: { method: 'POST' }, requestId: randomUUID() },
        body,
        isBase64Encoded,
      }) as never;
    const ctx = { awsRequestId: randomUUID(), functionName: 'webhook' } as never;
    const ok = (await handler(
      event(Buffer.from(raw).toString('base64'), true, signBody(raw, API_KEY_SECRET)),
      ctx,
    )) as { statusCode: number };
    expect(ok.statusCode).toBe(200);
    const big = JSON.stringify({ data: { event_type: 'x', payload: 'a'.repeat(5000) } });
    const tooBig = (await handler(event(big, false, signBody(big, API_KEY_SECRET)), ctx)) as {
      statusCode: number;
    };
    expect(tooBig.statusCode).toBe(413);
    expect((await h.drainInbound()).map((m) => m.id)).toEqual(['x:tweet:1888888888888888888']);
  });

  it('answers 503 naming apiKeySecret when the X app secret has none', async () => {
    const bare = `x-channel/app-bare-${randomUUID().slice(0, 8)}`;
    await world.aws.clients.secrets.send(
      new CreateSecretCommand({
        Name: bare,
        SecretString: JSON.stringify({ clientId: 'c', clientSecret: 's' }),
      }),
    );
    const other = await startWebhookHost(webhookHandler(composeTestWebhook(world, h, bare)));
    try {
      const res = await fetch(
        `${other.url}/x/webhook?crc_token=${Buffer.from(randomUUID()).toString('base64')}`,
      );
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        code: 'webhook_not_configured',
        detail: expect.stringContaining('apiKeySecret'),
      });
    } finally {
      await other.stop();
    }
  });
});

async function channel() {
  const c = await createDynamoChannelStore({
    client: world.aws.clients.doc,
    tableName: world.aws.tableName,
  }).get(channelId);
  return c!.account!;
}
