/**
 * Outbound media end to end through the real clients: the outbound queue (SQS stand-in) → the sender
 * handler → the media bucket (S3 stand-in, `@aws-sdk/client-s3`) → the simulated X's media upload v2
 * (twitter-api-v2) → the post or DM → the results queue. What X holds is checked by the sha256 the
 * simulated X took of the uploaded bytes (`/_sim/tweets`, `/_sim/dms`).
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { createS3Client } from '../../../adapters/aws/s3';
import { OUTBOUND_SCHEMA, type ResultMessage } from '../../../contracts';
import type { IdempotencyStore } from '../../../core/outbound/ports';
import type { SimX } from '../../../sim/x/server';
import { ensureBucket, startS3, type S3StandIn } from '../../../stand-ins/s3';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';
import { startTestSim } from '../sim-x/helpers';
import { connectChannel, startSenderHarness, type SenderHarness } from './harness';

const BUCKET = 'x-channel-media-test';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let aws: LocalAws;
let sim: SimX;
let stand: S3StandIn;
let s3: S3Client;
let h: SenderHarness;
let channelId: string;
let accountId: string;
let customerId: string;
let seq = 0;

interface SimMediaEntry {
  mediaKey: string;
  type: string;
  sha256: string;
}
const simPosts = async (path: string) =>
  (
    (await (await fetch(`${sim.url}${path}`)).json()) as {
      data: Array<{ id: string; media: SimMediaEntry[] }>;
    }
  ).data;
const simRequests = async () =>
  ((await (await fetch(`${sim.url}/_sim/requests`)).json()) as { data: Record<string, number> }).data;

async function put(key: string, bytes: Buffer, contentType: string): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ContentType: contentType }));
  return `s3://${BUCKET}/${key}`;
}

const cmd = (fields: Record<string, unknown>) => ({
  schema: OUTBOUND_SCHEMA,
  channelId,
  idempotencyKey: `media-${Date.now().toString(36)}-${++seq}`,
  ...fields,
});

async function resultOf(key: string): Promise<ResultMessage> {
  const mine = (await h.results()).filter((r) => r.idempotencyKey === key);
  expect(mine).toHaveLength(1);
  return mine[0];
}

/** Sends `c` through the sender; its result must be `sent`. What X holds for it, from the list at `path`. */
async function sentAtX(c: ReturnType<typeof cmd>, path: string) {
  await h.send(c);
  await h.drain();
  const result = await resultOf(c.idempotencyKey);
  expect(result.status).toBe('sent');
  return (await simPosts(path)).find((t) => result.status === 'sent' && t.id === result.xId);
}

/** Sends `c` through the sender: its result must be failed with `error`, and X must not have been called. */
async function failedBeforeX(c: ReturnType<typeof cmd>, error: Record<string, unknown>) {
  const before = await simRequests();
  await h.send(c);
  await h.drain();
  expect(await resultOf(c.idempotencyKey)).toMatchObject({ status: 'failed', error });
  expect(await simRequests()).toEqual(before);
}

beforeAll(async () => {
  aws = await startLocalAws();
  sim = await startTestSim({ clock: { now: () => Date.now() }, mediaProcessingMs: 1000 });
  stand = await startS3({ port: 0 });
  s3 = createS3Client({
    region: aws.region,
    endpoint: stand.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureBucket(s3, BUCKET);
  ({
    accountId,
    channel: { id: channelId },
  } = await connectChannel(aws, sim, 'acme_media', {}, ['media.write']));
  customerId = sim.createUser({ username: 'carla_m', name: 'Carla' }).id;
  h = await startSenderHarness(aws, sim, { s3 }, { MEDIA_BUCKET: BUCKET });
});

afterAll(async () => {
  s3?.destroy();
  await stand?.stop();
  await sim?.stop();
  await aws?.stop();
});

describe('sender: outbound media through the media bucket and X media upload v2', () => {
  it('a reply with an image from the bucket is posted with that image (sha256 at X)', async () => {
    const image = randomBytes(2_300_000); // three 1 MB appends
    const url = await put(`outbound/case-1/photo-${seq}.png`, image, 'image/png');
    const mention = sim.createTweet({ authorId: customerId, text: `@acme_media broken parcel ${++seq}` });
    const c = cmd({ kind: 'reply', targetId: mention.id, text: 'Sorry! Like this one?', mediaUrls: [url] });
    h.xRequests.length = 0;
    const post = await sentAtX(c, `/_sim/tweets?authorId=${accountId}`);
    expect(post?.media).toEqual([
      { mediaKey: expect.stringMatching(/^3_/), type: 'photo', sha256: sha256(image) },
    ]);
    expect(h.xRequests).toEqual([
      'POST /2/media/upload/initialize',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/finalize',
      'POST /2/tweets',
    ]);
  });

  it('a DM with one image is sent with it (a dm_image upload)', async () => {
    const image = randomBytes(50_000);
    const url = await put(`outbound/case-2/receipt-${seq}.jpg`, image, 'image/jpeg');
    const c = cmd({ kind: 'dm', targetId: customerId, text: 'Your receipt', mediaUrls: [url] });
    const dm = await sentAtX(c, `/_sim/dms?senderId=${accountId}`);
    expect(dm?.media).toEqual([{ mediaKey: expect.any(String), type: 'photo', sha256: sha256(image) }]);
  });

  it('a video is uploaded, polled until X has processed it, and posted', async () => {
    const video = randomBytes(300_000);
    const url = await put(`outbound/case-3/clip-${seq}.mp4`, video, 'video/mp4');
    const c = cmd({ kind: 'post', text: `How to fit the part ${++seq}`, mediaUrls: [url] });
    h.xRequests.length = 0;
    const post = await sentAtX(c, `/_sim/tweets?authorId=${accountId}`);
    expect(post?.media).toEqual([
      { mediaKey: expect.stringMatching(/^7_/), type: 'video', sha256: sha256(video) },
    ]);
    // finalize answered `pending` (1 s of processing at the simulated X): STATUS was polled before the post
    expect(h.xRequests.slice(-2)).toEqual(['GET /2/media/upload', 'POST /2/tweets']);
  });

  it.each([
    ['5 images (more than X attaches; the schema names mediaUrls)', 'invalid_input', 5, 'reply'],
    ['2 images in a DM (one attachment per DM)', 'media_too_large', 2, 'dm'],
  ])('%s → failed %s before any X call', async (_name, code, count, kind) => {
    const urls = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        put(`outbound/many/${seq}-${i}.png`, randomBytes(10), 'image/png'),
      ),
    );
    const mention = sim.createTweet({ authorId: customerId, text: `@acme_media more ${++seq}` });
    const c = cmd({ kind, targetId: kind === 'dm' ? customerId : mention.id, text: 'Many', mediaUrls: urls });
    await failedBeforeX(c, { code, retryable: false, message: expect.stringContaining('mediaUrls') });
  });

  it.each([
    [
      'a URL outside the bucket',
      'media_source_not_allowed',
      () => Promise.resolve('s3://someone-elses-bucket/outbound/a.png'),
    ],
    [
      'an https URL not on the allow-list (none by default)',
      'media_source_not_allowed',
      () => Promise.resolve('https://example.com/a.png'),
    ],
    [
      'an image over 5 MB',
      'media_too_large',
      () => put(`outbound/big-${seq}.png`, randomBytes(5 * 1024 * 1024 + 1), 'image/png'),
    ],
    [
      'a PDF',
      'media_type_not_supported',
      () => put(`outbound/doc-${seq}.pdf`, randomBytes(100), 'application/pdf'),
    ],
    [
      'a key that is not in the bucket',
      'media_not_found',
      () => Promise.resolve(`s3://${BUCKET}/outbound/missing-${seq}.png`),
    ],
  ])('%s → failed %s, not retryable, nothing posted and X not called', async (_name, code, url) => {
    const mention = sim.createTweet({ authorId: customerId, text: `@acme_media look ${++seq}` });
    const c = cmd({ kind: 'reply', targetId: mention.id, text: 'See attached', mediaUrls: [await url()] });
    await failedBeforeX(c, { code, retryable: false });
  });

  it('the process dies between the upload and the post → the post is made once, with the image', async () => {
    const image = randomBytes(40_000);
    const url = await put(`outbound/case-4/crash-${seq}.png`, image, 'image/png');
    const mention = sim.createTweet({ authorId: customerId, text: `@acme_media crash test ${++seq}` });
    const c = cmd({ kind: 'reply', targetId: mention.id, text: `One image, once ${seq}`, mediaUrls: [url] });
    const deps = h.runtime.deps;
    const { writerFor, idempotency } = deps;
    const died = () => Promise.reject(new Error('process died'));
    // After the upload the process dies: nothing it would still write to DynamoDB lands.
    deps.writerFor = (token, observe) => {
      const w = writerFor(token, observe);
      return {
        ...w,
        uploadMedia: async (u) => {
          await w.uploadMedia(u);
          deps.idempotency = {
            ...idempotency,
            claim: died,
            complete: died,
            release: died,
            markUncertain: died,
          } as IdempotencyStore;
          throw new Error('process died');
        },
      };
    };
    const before = await simRequests();
    await h.send(c);
    try {
      await h.deliverOnce();
    } finally {
      deps.writerFor = writerFor;
      deps.idempotency = idempotency;
    }
    expect((await simRequests())['POST /2/media/upload/:id/finalize']).toBe(
      (before['POST /2/media/upload/:id/finalize'] ?? 0) + 1,
    );
    expect((await simRequests())['POST /2/tweets'] ?? 0).toBe(before['POST /2/tweets'] ?? 0);
    // the lease (60 s) runs out and the message comes back
    h.clock.advanceSeconds(121);
    await h.expireVisibility();
    await h.drain();
    const result = await resultOf(c.idempotencyKey);
    expect(result.status).toBe('sent');
    const posted = (await simPosts(`/_sim/tweets?authorId=${accountId}`)).filter(
      (t) => t.id === (result as { xId: string }).xId,
    );
    expect(posted).toHaveLength(1);
    expect(posted[0].media).toEqual([{ mediaKey: expect.any(String), type: 'photo', sha256: sha256(image) }]);
    const after = await simRequests();
    expect(after['POST /2/tweets']).toBe((before['POST /2/tweets'] ?? 0) + 1);
    // uploaded again rather than reusing the first media id (docs/result-codes.md "Media")
    expect(after['POST /2/media/upload/:id/finalize']).toBe(
      (before['POST /2/media/upload/:id/finalize'] ?? 0) + 2,
    );
  });
});
