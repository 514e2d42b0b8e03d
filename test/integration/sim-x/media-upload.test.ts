/**
 * Media upload v2 of the simulated X, driven by the two real clients: twitter-api-v2's `v2.uploadMedia`
 * (multipart appends of 1 MB) and the official XDK (`@xdevplatform/xdk` MediaClient: JSON appends with
 * base64 chunks), every answer checked against X's OpenAPI 2.167 schemas. Then X's rules: categories,
 * size and type limits, processing states, `media.write`, one use by the owner, expiry, one DM attachment.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ApiResponseError } from 'twitter-api-v2';
import type { SimX } from '../../../sim/x/server';
import {
  ALL_SCOPES,
  control,
  signIn,
  startTestSim,
  userClient,
  validatedEndpoints,
  wireViolations,
} from './helpers';
import { xdkUser } from './xaa-helpers';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const WITH_MEDIA = [...ALL_SCOPES, 'media.write'];

describe('sim-x media upload v2', () => {
  let sim: SimX;
  let brand: { id: string; token: string };
  let customer: { id: string; token: string };

  beforeAll(async () => {
    // tokens outlive the 24 h media expiry the tests step over
    sim = await startTestSim({ mediaProcessingMs: 3000, accessTokenTtlSeconds: 7 * 86_400 });
  });
  afterAll(async () => {
    // every media endpoint answered successfully at least once, each answer checked against 2.167
    expect(validatedEndpoints(sim).filter((e) => e.includes('/2/media/'))).toEqual([
      'GET /2/media/upload',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/finalize',
      'POST /2/media/upload/initialize',
    ]);
    await sim.stop();
  });

  beforeEach(async () => {
    sim.reset();
    const b = sim.createUser({ username: 'acme', name: 'Acme' });
    const c = sim.createUser({ username: 'carla', name: 'Carla' });
    brand = { id: b.id, token: (await signIn(sim, 'acme', WITH_MEDIA)).accessToken };
    customer = { id: c.id, token: (await signIn(sim, 'carla', WITH_MEDIA)).accessToken };
  });
  afterEach(() => expect(wireViolations(sim)).toEqual([]));

  const xError = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof ApiResponseError) return { status: e.code, data: e.data as any };
      throw e;
    }
    throw new Error('expected X to refuse');
  };

  it('twitter-api-v2 uploads an image in 1 MB multipart chunks and attaches it to a reply', async () => {
    const image = randomBytes(2_500_000);
    const v2 = userClient(sim, brand.token).v2;
    const mediaId = await v2.uploadMedia(image, { media_type: 'image/png', media_category: 'tweet_image' });
    expect(mediaId).toMatch(/^[0-9]{1,19}$/);
    expect(sim.requests()['POST /2/media/upload/:id/append']).toBe(3);

    const mention = sim.createTweet({ authorId: customer.id, text: '@acme my parcel is broken' });
    const reply = await v2.reply('Sorry! Is it like this?', mention.id, { media: { media_ids: [mediaId] } });
    const posted = (await control(sim, 'GET', `/_sim/tweets?authorId=${brand.id}`)).body.data;
    expect(posted).toEqual([
      expect.objectContaining({
        id: reply.data.id,
        inReplyToId: mention.id,
        media: [{ mediaKey: `3_${mediaId}`, type: 'photo', sha256: sha256(image) }],
      }),
    ]);
    // a media id is used once
    const again = await xError(v2.tweet({ text: 'again', media: { media_ids: [mediaId] } }));
    expect(again.status).toBe(400);
    expect(JSON.stringify(again.data)).toContain('Your media IDs are invalid.');
  });

  it('the XDK uploads a DM video with base64 JSON appends; STATUS walks pending → in_progress → succeeded', async () => {
    const video = randomBytes(1_200_000);
    const media = xdkUser(sim, brand.token).media;
    const init = await media.initializeUpload({
      mediaType: 'video/mp4',
      totalBytes: video.length,
      mediaCategory: 'dm_video',
    });
    const id = init.data!.id;
    // the XDK camel-cases answers: X's wire names are checked by the schema validation
    expect(init.data).toEqual({ id, mediaKey: `7_${id}`, expiresAfterSecs: 86400 });
    await media.appendUpload(id, { segmentIndex: 1, media: video.subarray(600_000).toString('base64') });
    await media.appendUpload(id, { segmentIndex: 0, media: video.subarray(0, 600_000).toString('base64') });
    const fin = await media.finalizeUpload(id);
    expect(fin.data).toMatchObject({
      id,
      size: video.length,
      processingInfo: { state: 'pending', checkAfterSecs: 3 },
    });

    // not attachable while processing
    const dms = userClient(sim, brand.token).v2;
    const early = await xError(dms.sendDmToParticipant(customer.id, { attachments: [{ media_id: id }] }));
    expect(early.status).toBe(400);

    sim.advanceClock(1500);
    const mid = await media.getUploadStatus(id, { command: 'STATUS' });
    expect(mid.data?.processingInfo).toMatchObject({ state: 'in_progress', checkAfterSecs: 2 });
    sim.advanceClock(1500);
    const done = await media.getUploadStatus(id, { command: 'STATUS' });
    expect(done.data?.processingInfo).toEqual({ state: 'succeeded', progressPercent: 100 });

    await dms.sendDmToParticipant(customer.id, {
      text: 'Here is the how-to',
      attachments: [{ media_id: id }],
    });
    const sent = (await control(sim, 'GET', `/_sim/dms?senderId=${brand.id}`)).body.data;
    expect(sent).toEqual([
      expect.objectContaining({
        recipientId: customer.id,
        media: [{ mediaKey: `7_${id}`, type: 'video', sha256: sha256(video) }],
      }),
    ]);
  });

  it('refuses what X refuses: size, type, category, scope, owner, expiry, DM rules', async () => {
    const v2 = userClient(sim, brand.token).v2;
    const init = (body: Record<string, unknown>) => xError(v2.post('media/upload/initialize', body));

    const tooBig = await init({
      media_type: 'image/jpeg',
      total_bytes: 5 * 1024 * 1024 + 1,
      media_category: 'tweet_image',
    });
    expect(tooBig.status).toBe(400);
    expect(JSON.stringify(tooBig.data)).toContain('File size exceeds 5242880 bytes.');
    const gifOk = await v2.post('media/upload/initialize', {
      media_type: 'image/gif',
      total_bytes: 15 * 1024 * 1024,
      media_category: 'tweet_gif',
    });
    expect((gifOk as any).data.media_key).toMatch(/^16_/);
    expect(
      (await init({ media_type: 'video/mp4', total_bytes: 10, media_category: 'tweet_image' })).status,
    ).toBe(400);
    expect(
      (await init({ media_type: 'image/png', total_bytes: 10, media_category: 'amplify_video' })).status,
    ).toBe(400);
    expect(
      (await init({ media_type: 'image/png', total_bytes: 10, media_category: 'tweet_image', foo: 1 }))
        .status,
    ).toBe(400);

    // a token without media.write
    const other = sim.createUser({ username: 'nomedia', name: 'No Media' });
    const plain = (await signIn(sim, 'nomedia', ALL_SCOPES)).accessToken;
    const noScope = await xError(
      userClient(sim, plain).v2.uploadMedia(Buffer.from('x'), { media_type: 'image/png' }),
    );
    expect(noScope.status).toBe(403);
    expect(noScope.data.missing_scopes).toEqual(['media.write']);
    expect(other.id).toBeTruthy();

    // the customer's media cannot be used by the brand
    const theirs = await userClient(sim, customer.token).v2.uploadMedia(Buffer.from('png'), {
      media_type: 'image/png',
    });
    expect((await xError(v2.tweet({ text: 'not mine', media: { media_ids: [theirs] } }))).status).toBe(400);

    // a tweet_image cannot go into a DM; a DM takes one attachment
    const tweetImage = await v2.uploadMedia(Buffer.from('img'), { media_type: 'image/png' });
    const dmImage = await v2.uploadMedia(Buffer.from('img2'), {
      media_type: 'image/png',
      media_category: 'dm_image',
    });
    const wrongCategory = await xError(
      v2.sendDmToParticipant(customer.id, { attachments: [{ media_id: tweetImage }] }),
    );
    expect(wrongCategory.status).toBe(403);
    expect(wrongCategory.data.detail).toBe('You are not permitted to attach this media to a DM event.');
    const two = await xError(
      v2.post(`dm_conversations/with/${customer.id}/messages`, {
        attachments: [{ media_id: dmImage }, { media_id: dmImage }],
      }),
    );
    expect(two.status).toBe(400);

    // expiry: 24 h after initialize
    sim.advanceClock(86_400_000);
    expect(
      (await xError(v2.sendDmToParticipant(customer.id, { attachments: [{ media_id: dmImage }] }))).status,
    ).toBe(400);
    expect((await xError(v2.get('media/upload', { command: 'STATUS', media_id: dmImage }))).status).toBe(400);
  });

  it('lists media made by mediaCount with the sha256 of the bytes the simulator serves for them', async () => {
    const t = sim.createTweet({ authorId: customer.id, text: '@acme look', mediaCount: 1 });
    const [listed] = (await control(sim, 'GET', `/_sim/tweets?authorId=${customer.id}`)).body.data;
    const [entry] = listed.media;
    expect(entry).toEqual({ mediaKey: t.mediaKeys[0], type: 'photo', sha256: expect.any(String) });
    const served = Buffer.from(
      await (await fetch(`${sim.url}/_sim/media/${entry.mediaKey}.svg`)).arrayBuffer(),
    );
    expect(entry.sha256).toBe(sha256(served));
  });

  it('refuses appends that overflow total_bytes and a finalize short of it', async () => {
    const v2 = userClient(sim, brand.token).v2;
    const init = (await v2.post('media/upload/initialize', {
      media_type: 'image/png',
      total_bytes: 10,
      media_category: 'tweet_image',
    })) as { data: { id: string } };
    const id = init.data.id;
    const over = await xError(
      v2.post(
        `media/upload/${id}/append`,
        { segment_index: 0, media: Buffer.alloc(11) },
        { forceBodyMode: 'form-data' },
      ),
    );
    expect(over.status).toBe(400);
    await v2.post(
      `media/upload/${id}/append`,
      { segment_index: 0, media: Buffer.alloc(4) },
      { forceBodyMode: 'form-data' },
    );
    const short = await xError(v2.post(`media/upload/${id}/finalize`, undefined));
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.data)).toContain('File size mismatch: received 4 bytes');
  });
});
