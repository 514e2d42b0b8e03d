/**
 * A DM with a photo that arrives in real time (X Activity API `dm.received`): the webhook holds no user
 * token, so it publishes the DMs without media at once and leaves the one with media to the poller,
 * making the channel's DM stream due now; the next dispatcher tick polls it, the poller downloads the
 * photo with the channel's token into the media bucket (S3 stand-in) and delivers it once, with a
 * presigned URL a plain GET answers with the bytes the simulated X holds.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { createS3Client, LOCAL_MEDIA_BUCKET } from '../../../adapters/aws/s3';
import { createApp as createWebhookApp } from '../../../lambdas/webhook/app';
import { compose as composeWebhook } from '../../../lambdas/webhook/compose';
import { loadConfig as loadWebhookConfig } from '../../../lambdas/webhook/config';
import { createLogger } from '../../../lambdas/shared/logger';
import { httpRoutes } from '../../../local/handlers';
import { startHttpHost, type HttpHandler, type HttpHost } from '../../../local/http-host';
import { ensureBucket, startS3, type S3StandIn } from '../../../stand-ins/s3';
import {
  clockOf,
  connectChannel,
  startInboundHarness,
  useInboundWorld,
  type InboundHarness,
} from '../inbound/harness';
import { API_KEY_SECRET, signIn } from '../sim-x/helpers';
import { appBearerToken, call } from '../sim-x/xaa-helpers';

let stand: S3StandIn;
let s3: S3Client;

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-xaa-${randomUUID().slice(0, 8)}`;

let h: InboundHarness;
let host: HttpHost;
let accountId: string;
let channelId: string;
let customerId: string;

async function startWebhookHost(secretId: string): Promise<HttpHost> {
  const { aws, sim } = world;
  const runtime = composeWebhook(
    loadWebhookConfig({
      AWS_REGION: aws.region,
      TABLE_NAME: aws.tableName,
      X_APP_SECRET_ID: secretId,
      INBOUND_QUEUE_URL: h.queues.inbound.url,
    }),
    { clients: aws.clients, clock: clockOf(sim), logger: createLogger({ logLevel: 'ERROR' }) },
  );
  return startHttpHost({
    routes: httpRoutes({ webhook: createWebhookApp(runtime) as unknown as HttpHandler }),
    adminToken: 'unused-admin-token-0123456789',
  });
}

beforeAll(async () => {
  stand = await startS3({ port: 0 });
  s3 = createS3Client({
    region: world.aws.region,
    endpoint: stand.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureBucket(s3, LOCAL_MEDIA_BUCKET);
  await world.aws.clients.secrets.send(
    new CreateSecretCommand({
      Name: SECRET_ID,
      SecretString: JSON.stringify({
        clientId: 'test-client',
        clientSecret: 'test-client-secret-0123456789',
        apiKey: 'test-api-key',
        apiKeySecret: API_KEY_SECRET,
      }),
    }),
  );
});

beforeEach(async () => {
  const { aws, sim } = world;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  h = await startInboundHarness(aws, sim, {
    env: { MEDIA_BUCKET: LOCAL_MEDIA_BUCKET },
    overrides: { s3 },
  });
  const connected = await connectChannel(aws, sim, `acme${randomUUID().slice(0, 6)}`);
  accountId = connected.accountId;
  channelId = connected.channel.id;
  // sign-in binds the account to the channel: the webhook routes events by that claim
  await createDynamoChannelStore({ client: aws.clients.doc, tableName: aws.tableName }).claimAccount(
    accountId,
    channelId,
  );
  customerId = sim.createUser({ username: `carla${randomUUID().slice(0, 6)}`, name: 'Carla' }).id;
  host = await startWebhookHost(SECRET_ID);
  sim.setDelivery({ delayMs: 0, dropRate: 0, duplicateRate: 0 });

  // what the subscription lifecycle will do at deploy and sign-in: one webhook, the channel's subscriptions
  const bearer = await appBearerToken(sim);
  const hook = await call(sim, 'POST', '/2/webhooks', bearer, { url: `${host.url}/x/webhook` });
  expect(hook.status).toBe(200);
  expect(hook.body.data.valid).toBe(true); // the sim's CRC was answered by our GET /x/webhook
  const login = await signIn(sim, connected.channel.account!.username);
  for (const eventType of ['post.mention.create', 'post.reply.create', 'dm.received', 'chat.received']) {
    const sub = await call(sim, 'POST', '/2/activity/subscriptions', login.accessToken, {
      event_type: eventType,
      filter: { user_id: accountId },
      webhook_id: hook.body.data.id,
    });
    expect(sub.status).toBeLessThan(300);
  }
});

afterEach(async () => {
  await host.stop();
  // each test's simulated X starts its ids afresh: free the account for the next test's channel
  await createDynamoChannelStore({
    client: world.aws.clients.doc,
    tableName: world.aws.tableName,
  }).releaseAccount(accountId, channelId);
});

afterAll(async () => {
  s3?.destroy();
  await stand?.stop();
});

const control = async (path: string, body: unknown) => {
  const res = await fetch(`${world.sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { id: string; conversationId: string };
};

describe('real-time DM media', () => {
  it('a DM with a photo is left to a prompt poll that stores it; the text-only DM is delivered at once', async () => {
    // Prepare: the channel's first poll has run, so nothing is due
    await h.tick();
    expect(await h.drainInbound()).toEqual([]);
    expect((await h.tick()).jobs).toBe(0);

    // Act: two DMs in real time, one with a photo
    const plain = await control('/_sim/dms', { senderId: customerId, recipientId: accountId, text: 'hi' });
    const photo = await control('/_sim/dms', {
      senderId: customerId,
      recipientId: accountId,
      text: 'see photo',
      mediaCount: 1,
    });
    await world.sim.deliveriesIdle();

    // Assert: the webhook published the plain one; the photo waits for the poll it asked for
    expect((await h.drainInbound()).map((m) => m.id)).toEqual([`x:dm:${plain.id}`]);
    const { jobs } = await h.tick(); // no clock move: due only because the webhook asked
    expect(jobs).toBe(1);
    const delivered = await h.drainInbound();
    expect(delivered.map((m) => m.id)).toEqual([`x:dm:${photo.id}`]);
    const [att] = delivered[0].attachments;
    expect(new URL(att.url).pathname).toContain(`/inbound/${channelId}/`);
    const res = await fetch(att.url);
    expect(res.status).toBe(200);
    const sha = createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');
    const held = (await (await fetch(`${world.sim.url}/_sim/dms?senderId=${customerId}`)).json()) as {
      data: Array<{ id: string; media: Array<{ sha256: string }> }>;
    };
    expect(sha).toBe(held.data.find((d) => d.id === photo.id)!.media[0].sha256);
  });
});
