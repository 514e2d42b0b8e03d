/**
 * Inbound media end to end (issue 18 item 2). A mention's photo is X's public URL, which a plain GET
 * answers with the bytes the simulated X lists. DMs: the real poller handler reads a customer's DM with a photo
 * from the simulated X, downloads it with the channel's token from the authenticated DM media
 * endpoint, stores it in the media bucket (the S3 stand-in through `@aws-sdk/client-s3`) under
 * `inbound/<channelId>/<sha256>` and delivers a presigned GET URL that a plain HTTP GET (no X
 * credentials, no AWS credentials) answers with the same bytes the simulated X holds (`sha256` of
 * `/_sim/dms`). A download X refuses, or one over MEDIA_MAX_BYTES, delivers the text with the
 * attachment unavailable and a reason, and health counts it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createS3Client, LOCAL_MEDIA_BUCKET } from '../../../adapters/aws/s3';
import { createDynamoChannelStore } from '../../../adapters/aws/dynamo-channel-store';
import { ensureBucket, startS3, type S3StandIn } from '../../../stand-ins/s3';
import { DM_MEDIA_ENDPOINT } from '../../../sim/x/limits';
import { signIn } from '../sim-x/helpers';
import { connectChannel, startInboundHarness, useInboundWorld } from './harness';

const world = useInboundWorld();
let stand: S3StandIn;
let s3: S3Client;

beforeAll(async () => {
  stand = await startS3({ port: 0 });
  s3 = createS3Client({
    region: world.aws.region,
    endpoint: stand.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureBucket(s3, LOCAL_MEDIA_BUCKET);
});

afterAll(async () => {
  s3?.destroy();
  await stand?.stop();
});

const TTL_SECONDS = 7200;
const mediaEnv = (extra: Record<string, string> = {}) => ({
  MEDIA_BUCKET: LOCAL_MEDIA_BUCKET,
  MEDIA_URL_TTL_SECONDS: String(TTL_SECONDS),
  ...extra,
});

/** What the simulated X says it holds for a customer's DMs (`GET /_sim/dms`, DESIGN.md). */
async function simDms(senderId: string) {
  const res = await fetch(`${world.sim.url}/_sim/dms?senderId=${senderId}`);
  expect(res.status).toBe(200);
  return (
    (await res.json()) as {
      data: Array<{
        id: string;
        text: string;
        media: Array<{ mediaKey: string; type: string; sha256: string }>;
      }>;
    }
  ).data;
}

async function healthCounters(channelId: string) {
  const stored = await createDynamoChannelStore({
    client: world.aws.clients.doc,
    tableName: world.aws.tableName,
  }).get(channelId);
  return stored!.health.counters;
}

describe('inbound DM media', () => {
  it('a DM with a photo reaches the inbound queue with a presigned URL that answers the bytes X holds, without credentials', async () => {
    // Prepare
    const { sim, aws, clock } = world;
    const h = await startInboundHarness(aws, sim, { env: mediaEnv(), overrides: { s3 } });
    const { channel } = await connectChannel(aws, sim, 'acme_dmm');
    const customer = sim.createUser({ username: 'carla_dmm', name: 'Carla' });
    clock.advance(1000);
    const dm = sim.sendDm({
      senderId: customer.id,
      recipientId: channel.account!.id,
      text: 'look',
      mediaCount: 1,
    });

    // Act
    await h.tick();
    const delivered = await h.drainInbound();

    // Assert: the message and its one attachment
    expect(delivered).toHaveLength(1);
    const msg = delivered[0];
    expect(msg).toMatchObject({ id: `x:dm:${dm.id}`, kind: 'dm', text: 'look' });
    expect(msg.attachments).toHaveLength(1);
    const [att] = msg.attachments;
    expect(att.unavailable).toBeUndefined();
    const [held] = (await simDms(customer.id))[0].media;
    expect(held.sha256).toMatch(/^[0-9a-f]{64}$/);
    const url = new URL(att.url);
    // content-addressed under the channel, signed for the configured lifetime
    expect(url.origin).toBe(stand.endpoint);
    expect(url.pathname).toBe(`/${LOCAL_MEDIA_BUCKET}/inbound/${channel.id}/${held.sha256}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(TTL_SECONDS));
    expect(att).toMatchObject({ type: 'photo', contentType: 'image/png' });

    // a plain GET: no Authorization header, no X token, no AWS key
    const res = await fetch(att.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(held.sha256);
    expect(att.bytes).toBe(bytes.length);
    expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');

    // X's own URL for the media needs the channel's credentials: the simulated X refuses it without
    const unsigned = await fetch(
      `${sim.url}/2/dm_conversations/media/${dm.id}/${dm.mediaKeys[0].slice(2)}/x.png`,
    );
    expect(unsigned.status).toBe(401);
    expect(await healthCounters(channel.id)).toMatchObject({ dmsDelivered: 1, attachmentsStored: 1 });
    expect((await healthCounters(channel.id)).attachmentsUnavailable ?? 0).toBe(0);
  });

  it("a mention with a photo reaches the inbound queue with X's public URL, which a plain GET answers with the bytes X holds", async () => {
    const { sim, aws, clock } = world;
    const h = await startInboundHarness(aws, sim, { env: mediaEnv(), overrides: { s3 } });
    const { channel } = await connectChannel(aws, sim, 'acme_mph');
    const customer = sim.createUser({ username: 'gala_mph', name: 'Gala' });
    clock.advance(1000);
    const tweet = sim.createTweet({ authorId: customer.id, text: '@acme_mph broken', mediaCount: 1 });

    await h.tick();
    const [msg] = await h.drainInbound();

    expect(msg.id).toBe(`x:tweet:${tweet.id}`);
    expect(msg.attachments).toHaveLength(1);
    const res = await fetch(msg.attachments[0].url); // no credentials of any kind
    expect(res.status).toBe(200);
    const sha = createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');
    const held = (await (await fetch(`${sim.url}/_sim/tweets?authorId=${customer.id}`)).json()) as {
      data: Array<{ id: string; media: Array<{ sha256: string }> }>;
    };
    expect(sha).toBe(held.data.find((t) => t.id === tweet.id)!.media[0].sha256);
    // mention media is public: nothing stored in the bucket for it
    expect(await healthCounters(channel.id)).toMatchObject({ mentionsDelivered: 1 });
    expect((await healthCounters(channel.id)).attachmentsStored ?? 0).toBe(0);
  });

  it('a mention with a video carries its best mp4 variant, which a plain GET answers with the bytes X holds', async () => {
    const { sim, aws, clock } = world;
    const h = await startInboundHarness(aws, sim, { env: mediaEnv(), overrides: { s3 } });
    await connectChannel(aws, sim, 'acme_mvd');
    const customer = sim.createUser({ username: 'hugo_mvd', name: 'Hugo' });
    clock.advance(1000);
    const tweet = sim.createTweet({
      authorId: customer.id,
      text: '@acme_mvd it rattles',
      mediaCount: 1,
      mediaType: 'video',
    });

    await h.tick();
    const [msg] = await h.drainInbound();

    const [att] = msg.attachments;
    expect(att).toMatchObject({ type: 'video', contentType: 'video/mp4' });
    expect(att.url).toMatch(/-2176000\.mp4$/); // the highest bit rate of the variants
    expect(att.previewUrl).toBeDefined();
    const res = await fetch(att.url); // no credentials of any kind
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const sha = createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');
    const held = (await (await fetch(`${sim.url}/_sim/tweets?authorId=${customer.id}`)).json()) as {
      data: Array<{ id: string; media: Array<{ type: string; sha256: string }> }>;
    };
    expect(held.data.find((t) => t.id === tweet.id)!.media[0]).toEqual(
      expect.objectContaining({ type: 'video', sha256: sha }),
    );
    expect((await fetch(att.previewUrl!)).status).toBe(200);
  });

  it('the download endpoint of the simulated X: 401 without a token, 403 to a non-participant, the bytes to a participant', async () => {
    const { sim, aws } = world;
    const { channel } = await connectChannel(aws, sim, 'acme_dmm2');
    const customer = sim.createUser({ username: 'diego_dmm', name: 'Diego' });
    const dm = sim.sendDm({
      senderId: customer.id,
      recipientId: channel.account!.id,
      text: 'x',
      mediaCount: 1,
    });
    // the ton URL the DM event lists (`media.fields=url`)
    const login = await signIn(sim, 'acme_dmm2');
    const page = await fetch(
      `${sim.url}/2/dm_events?dm_event.fields=attachments&expansions=attachments.media_keys&media.fields=url`,
      { headers: { authorization: `Bearer ${login.accessToken}` } },
    );
    const body = (await page.json()) as { includes: { media: Array<{ url: string }> } };
    const tonUrl = new URL(body.includes.media[0].url);
    const [, dmId, mediaId, resourceId] = /\/dm\/([0-9]+)\/([0-9]+)\/([^/]+)$/.exec(tonUrl.pathname)!;
    expect(dmId).toBe(dm.id);
    expect((await fetch(tonUrl)).status).toBe(401);
    const download = `${sim.url}/2/dm_conversations/media/${dmId}/${mediaId}/${resourceId}`;
    expect((await fetch(download)).status).toBe(401);
    sim.createUser({ username: 'eve_dmm', name: 'Eve' });
    const eve = await signIn(sim, 'eve_dmm');
    expect((await fetch(download, { headers: { authorization: `Bearer ${eve.accessToken}` } })).status).toBe(
      403,
    );
    const ok = await fetch(download, { headers: { authorization: `Bearer ${login.accessToken}` } });
    expect(ok.status).toBe(200);
    const [held] = (await simDms(customer.id))[0].media;
    expect(
      createHash('sha256')
        .update(Buffer.from(await ok.arrayBuffer()))
        .digest('hex'),
    ).toBe(held.sha256);
  });

  it('a failed download delivers the text with the attachment unavailable and a reason; health counts it', async () => {
    // Prepare: X answers every DM media download with 503 (retried, then given up)
    const { sim, aws, clock } = world;
    const h = await startInboundHarness(aws, sim, { env: mediaEnv(), overrides: { s3 } });
    const { channel } = await connectChannel(aws, sim, 'acme_dmm3');
    const customer = sim.createUser({ username: 'elena_dmm', name: 'Elena' });
    clock.advance(1000);
    sim.setFault({ endpoint: DM_MEDIA_ENDPOINT, kind: 'status', status: 503, sticky: true });
    const dm = sim.sendDm({
      senderId: customer.id,
      recipientId: channel.account!.id,
      text: 'broken',
      mediaCount: 1,
    });

    // Act
    await h.tick();
    const delivered = await h.drainInbound();

    // Assert: delivered at once, text intact, the attachment marked with why
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ id: `x:dm:${dm.id}`, text: 'broken' });
    expect(delivered[0].attachments).toEqual([
      { type: 'photo', url: '', unavailable: true, unavailableReason: 'x_unavailable' },
    ]);
    // retried like any X call (one try and three retries), then given up
    expect(sim.firedFaults().length).toBe(4);
    expect(h.failedJobs).toBe(0);
    expect(await healthCounters(channel.id)).toMatchObject({ dmsDelivered: 1, attachmentsUnavailable: 1 });

    // the next poll does not deliver it again
    sim.clearFaults();
    clock.advance(10 * 60_000);
    await h.tick();
    expect(await h.drainInbound()).toEqual([]);
  });

  it('an attachment over MEDIA_MAX_BYTES is not stored: delivered unavailable (too_large)', async () => {
    const { sim, aws, clock } = world;
    const h = await startInboundHarness(aws, sim, {
      env: mediaEnv({ MEDIA_MAX_BYTES: '64' }),
      overrides: { s3 },
    });
    const { channel } = await connectChannel(aws, sim, 'acme_dmm4');
    const customer = sim.createUser({ username: 'fede_dmm', name: 'Fede' });
    clock.advance(1000);
    sim.sendDm({ senderId: customer.id, recipientId: channel.account!.id, text: 'big', mediaCount: 1 });

    await h.tick();
    const [msg] = await h.drainInbound();

    expect(msg.text).toBe('big');
    expect(msg.attachments).toEqual([
      { type: 'photo', url: '', unavailable: true, unavailableReason: 'too_large' },
    ]);
    expect(await healthCounters(channel.id)).toMatchObject({ attachmentsUnavailable: 1 });
  });
});
