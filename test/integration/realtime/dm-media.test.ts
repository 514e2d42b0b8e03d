/**
 * A DM with a photo that arrives in real time (X Activity API `dm.received`): the webhook holds no user
 * token, so it publishes the DMs without media at once and leaves the one with media to the poller,
 * making the channel's DM stream due now and queueing one poll job (the stack gives the webhook the
 * poll-jobs queue); that job — or, without the queue, the next dispatcher tick — polls it, the poller
 * downloads the photo with the channel's token into the media bucket (S3 stand-in) and delivers it
 * once, with a presigned URL a plain GET answers with the bytes the simulated X holds.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, LOCAL_MEDIA_BUCKET } from '../../../adapters/aws/s3';
import { ensureBucket, startS3, type S3StandIn } from '../../../stand-ins/s3';
import {
  arrangeRealtimeChannel,
  composeTestWebhook,
  createXAppSecret,
  releaseRealtimeChannel,
  simPost,
  webhookHandler,
  type RealtimeChannel,
} from '../../helpers/realtime-channel';
import { startInboundHarness, useInboundWorld, type InboundHarness } from '../inbound/harness';
import type { InboundMessage } from '../../../contracts';

let stand: S3StandIn;
let s3: S3Client;

const world = useInboundWorld();
const SECRET_ID = `x-channel/app-xaa-${randomUUID().slice(0, 8)}`;

let h: InboundHarness;
let rt: RealtimeChannel | undefined;
let accountId: string;
let channelId: string;
let customerId: string;

beforeAll(async () => {
  stand = await startS3({ port: 0 });
  s3 = createS3Client({
    region: world.aws.region,
    endpoint: stand.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureBucket(s3, LOCAL_MEDIA_BUCKET);
  await createXAppSecret(world.aws, SECRET_ID);
});

/** The channel, its poller and its webhook; `promptJobs`: the webhook has the poll-jobs queue. */
async function arrange(promptJobs: boolean) {
  rt = undefined;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  h = await startInboundHarness(world.aws, world.sim, {
    env: { MEDIA_BUCKET: LOCAL_MEDIA_BUCKET },
    overrides: { s3 },
  });
  const webhook = composeTestWebhook(world, h, SECRET_ID, {
    ...(promptJobs ? { pollJobsQueueUrl: h.queues.pollJobs.url } : {}),
  });
  rt = await arrangeRealtimeChannel(world, { webhook: webhookHandler(webhook) });
  ({ accountId, channelId, customerId } = rt);
}

afterEach(() => releaseRealtimeChannel(world, rt));

afterAll(async () => {
  s3?.destroy();
  await stand?.stop();
});

const control = (path: string, body: unknown) => simPost(world, path, body);
/** The customer's DM with one photo, delivered in real time. */
const photoDm = () =>
  control('/_sim/dms', { senderId: customerId, recipientId: accountId, text: 'see photo', mediaCount: 1 });

/** The photo DM arrived as `delivered` says: stored under the channel, a plain GET gives X's bytes. */
async function expectStoredPhoto(delivered: InboundMessage, photoId: string) {
  const [att] = delivered.attachments;
  expect(new URL(att.url).pathname).toContain(`/inbound/${channelId}/`);
  const res = await fetch(att.url);
  expect(res.status).toBe(200);
  const sha = createHash('sha256')
    .update(Buffer.from(await res.arrayBuffer()))
    .digest('hex');
  const held = (await (await fetch(`${world.sim.url}/_sim/dms?senderId=${customerId}`)).json()) as {
    data: Array<{ id: string; media: Array<{ sha256: string }> }>;
  };
  expect(sha).toBe(held.data.find((d) => d.id === photoId)!.media[0].sha256);
}

describe('real-time DM media, the webhook with the poll-jobs queue (as the stack deploys it)', () => {
  beforeEach(() => arrange(true));

  it('a DM with a photo is polled at once by the job the webhook queued, without a dispatcher tick', async () => {
    // Prepare: the channel's first poll has run, so nothing is due
    await h.tick();
    expect(await h.drainInbound()).toEqual([]);

    // Act: a DM with a photo in real time
    const photo = await photoDm();
    await world.sim.deliveriesIdle();

    // Assert: nothing published by the webhook; one job on the queue, which delivers it (no tick)
    expect(await h.drainInbound()).toEqual([]);
    expect(await h.deliverJobs()).toBe(1);
    const delivered = await h.drainInbound();
    expect(delivered.map((m) => m.id)).toEqual([`x:dm:${photo.id}`]);
    await expectStoredPhoto(delivered[0], photo.id);
    // the dispatcher's tick finds nothing due: the prompt poll moved the channel on, the DM came once
    expect((await h.tick()).jobs).toBe(0);
    expect(await h.drainInbound()).toEqual([]);
  });
});

describe('real-time DM media, the webhook without the poll-jobs queue', () => {
  beforeEach(() => arrange(false));

  it('a DM with a photo is left to a prompt poll that stores it; the text-only DM is delivered at once', async () => {
    // Prepare: the channel's first poll has run, so nothing is due
    await h.tick();
    expect(await h.drainInbound()).toEqual([]);
    expect((await h.tick()).jobs).toBe(0);

    // Act: two DMs in real time, one with a photo
    const plain = await control('/_sim/dms', { senderId: customerId, recipientId: accountId, text: 'hi' });
    const photo = await photoDm();
    await world.sim.deliveriesIdle();

    // Assert: the webhook published the plain one; the photo waits for the poll it asked for
    expect((await h.drainInbound()).map((m) => m.id)).toEqual([`x:dm:${plain.id}`]);
    const { jobs } = await h.tick(); // no clock move: due only because the webhook asked
    expect(jobs).toBe(1);
    const delivered = await h.drainInbound();
    expect(delivered.map((m) => m.id)).toEqual([`x:dm:${photo.id}`]);
    await expectStoredPhoto(delivered[0], photo.id);
  });
});
