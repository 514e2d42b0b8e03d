/**
 * Outbound media in the send algorithm: the rules checked before any X call (count, source, existence,
 * type, size, the media.write scope), the uploads (categories per kind, bytes read through the source),
 * and at-most-once around them (a crash between upload and post, a lease lost during the upload).
 */
import { resultMessageSchema, type OutboundCommand, type ResultMessage } from '../../../contracts';
import { retryable } from '../../../core/errors';
import { sameText } from '../../../core/outbound/fingerprint';
import { parseMediaUrl, planMedia } from '../../../core/outbound/media';
import type { MediaUpload } from '../../../core/outbound/ports';
import { sendCommand, type Delivery, type SendOutcome } from '../../../core/outbound/send';
import { FakeMediaSource, TEST_MEDIA_POLICY, makeChannel, makeDeps, reply } from './fakes';

const MB = 1024 * 1024;
const first = (clockNow: Date, receiveCount = 1): Delivery => ({ receiveCount, sentAt: clockNow });
const s3 = (key: string) => `s3://media-bucket/outbound/${key}`;

function expectResult(outcome: SendOutcome): ResultMessage {
  if (outcome.action !== 'result') throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  expect(resultMessageSchema.safeParse(outcome.result).success).toBe(true);
  return outcome.result;
}

const codeOf = (r: ResultMessage) => (r.status === 'failed' ? r.error.code : 'sent');

function setup(scopes = ['tweet.read', 'users.read', 'tweet.write', 'dm.write', 'media.write']) {
  const t = makeDeps();
  const channel = makeChannel({ scopes });
  t.channels.items.set(channel.id, channel);
  return t;
}

const dm = (change: Partial<OutboundCommand> = {}) =>
  ({ ...reply(), kind: 'dm', targetId: '2002', ...change }) as OutboundCommand;

describe('parseMediaUrl: only the media bucket (outbound prefix) or an allow-listed https origin', () => {
  it.each([
    ['s3://other-bucket/outbound/a.png', 'only s3://media-bucket/outbound/<key>'],
    ['s3://media-bucket/inbound/a.png', 'outbound media keys start with outbound/'],
    ['s3://media-bucket/outbound/../inbound/a.png', 'outbound media keys start with outbound/'],
    ['s3://media-bucket/outbound/a.png?versionId=1', 'a key and nothing else'],
    ['http://cdn.example.com/a.png', 'only s3://'],
    ['file:///etc/passwd', 'only s3://'],
    ['https://example.com/a.png', 'https://example.com is not on the operator'],
    ['https://cdn.example.com.evil.test/a.png', 'not on the operator'],
    ['https://user:pw@cdn.example.com/a.png', 'credentials'],
    ['https://cdn.example.com:8443/a.png', 'not on the operator'],
  ])('%s → media_source_not_allowed (%s)', (url, why) => {
    expect(() => parseMediaUrl(url, 0, TEST_MEDIA_POLICY)).toThrow(
      expect.objectContaining({ code: 'media_source_not_allowed', message: expect.stringContaining(why) }),
    );
  });

  it('never echoes a query string (it may carry a signature)', () => {
    expect(() =>
      parseMediaUrl('https://example.com/a.png?X-Amz-Signature=abc', 0, TEST_MEDIA_POLICY),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('abc') }));
  });

  it('accepts the bucket and the allow-listed origin', () => {
    expect(parseMediaUrl(s3('case-1/a%20b.png'), 0, TEST_MEDIA_POLICY)).toEqual({
      source: 's3',
      url: s3('case-1/a%20b.png'),
      bucket: 'media-bucket',
      key: 'outbound/case-1/a b.png',
    });
    expect(parseMediaUrl('https://cdn.example.com/x/a.png', 0, TEST_MEDIA_POLICY)).toMatchObject({
      source: 'https',
    });
    expect(() => parseMediaUrl(s3('a.png'), 0, { ...TEST_MEDIA_POLICY, bucket: null })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('no media bucket is configured') }),
    );
  });
});

describe('planMedia: X limits, checked with a HEAD each', () => {
  const source = new FakeMediaSource();
  source.put(s3('png'), 'image/png', Buffer.alloc(10));
  source.put(s3('big.jpg'), 'image/jpeg', Buffer.alloc(5 * MB + 1));
  source.put(s3('max.jpg'), 'image/jpeg', Buffer.alloc(5 * MB));
  source.put(s3('anim.gif'), 'image/gif', Buffer.alloc(6 * MB));
  source.put(s3('clip.mp4'), 'video/mp4; codecs=avc1', Buffer.alloc(20));
  source.put(s3('doc.pdf'), 'application/pdf', Buffer.alloc(20));
  source.put(s3('notype'), null, Buffer.alloc(20));

  it.each([
    ['reply', [s3('big.jpg')], 'media_too_large'],
    ['dm', [s3('png'), s3('png')], 'media_too_large'],
    ['reply', [s3('doc.pdf')], 'media_type_not_supported'],
    ['reply', [s3('notype')], 'media_type_not_supported'],
    ['reply', [s3('missing.png')], 'media_not_found'],
  ] as const)('%s %j → %s', async (kind, urls, code) => {
    await expect(planMedia(kind, urls, TEST_MEDIA_POLICY, source)).rejects.toMatchObject({ code });
  });

  it('plans tweet_* for replies and posts, dm_* for DMs, at the limits', async () => {
    const urls = [s3('max.jpg'), s3('anim.gif'), s3('clip.mp4'), s3('png')];
    const planned = await planMedia('reply', urls, TEST_MEDIA_POLICY, source);
    expect(planned.map((p) => [p.category, p.mediaType])).toEqual([
      ['tweet_image', 'image/jpeg'],
      ['tweet_gif', 'image/gif'],
      ['tweet_video', 'video/mp4'],
      ['tweet_image', 'image/png'],
    ]);
    const [video] = await planMedia('dm', [s3('clip.mp4')], TEST_MEDIA_POLICY, source);
    expect(video.category).toBe('dm_video');
  });

  it('counts before it reads anything', async () => {
    const counting = new FakeMediaSource();
    await expect(planMedia('dm', [s3('a'), s3('b')], TEST_MEDIA_POLICY, counting)).rejects.toMatchObject({
      code: 'media_too_large',
    });
    expect(counting.heads).toEqual([]);
  });
});

describe('sendCommand with media', () => {
  it('a reply with two images: uploaded as tweet_image from the bucket, attached to the one post', async () => {
    const t = setup();
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('first image bytes'));
    const b = t.media.put(s3('b.jpg'), 'image/jpeg', Buffer.from('second'));
    const result = expectResult(
      await sendCommand(t.deps, reply({ mediaUrls: [a, b] }), first(t.clock.now())),
    );
    expect(result.status).toBe('sent');
    expect(t.x.uploads.map((u) => [u.category, u.mediaType, u.bytes.toString()])).toEqual([
      ['tweet_image', 'image/png', 'first image bytes'],
      ['tweet_image', 'image/jpeg', 'second'],
    ]);
    expect(t.x.writes).toEqual([expect.objectContaining({ op: 'reply', media: ['7000', '7001'] })]);
  });

  it('a DM with one image: uploaded as dm_image and attached', async () => {
    const t = setup();
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    expect(
      codeOf(expectResult(await sendCommand(t.deps, dm({ mediaUrls: [a] }), first(t.clock.now())))),
    ).toBe('sent');
    expect(t.x.uploads[0].category).toBe('dm_image');
    expect(t.x.writes).toEqual([expect.objectContaining({ op: 'dm', target: '2002', media: ['7000'] })]);
  });

  it.each([
    ['a DM with two items', dm({ mediaUrls: [s3('a.png'), s3('a.png')] }), 'media_too_large'],
    [
      'a URL outside the bucket',
      reply({ mediaUrls: ['s3://elsewhere/outbound/a.png'] }),
      'media_source_not_allowed',
    ],
    ['a missing object', reply({ mediaUrls: [s3('nope.png')] }), 'media_not_found'],
    ['an image over 5 MB', reply({ mediaUrls: [s3('huge.png')] }), 'media_too_large'],
  ])('%s → failed %s, not retryable, before any X call or budget', async (_name, command, code) => {
    const t = setup();
    t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    t.media.put(s3('huge.png'), 'image/png', Buffer.alloc(5 * MB + 1));
    const result = expectResult(await sendCommand(t.deps, command, first(t.clock.now())));
    expect(result).toMatchObject({ status: 'failed', error: { code, retryable: false } });
    expect(t.x.uploads).toEqual([]);
    expect(t.x.writes).toEqual([]);
    expect(t.tokens.calls).toHaveLength(0);
    expect(t.budget.used).toEqual({ dm: 0, post: 0 });
  });

  it('a channel signed in without media.write → media_scope_missing (retryable), shown on the health', async () => {
    const t = setup(['tweet.read', 'users.read', 'tweet.write', 'dm.write']);
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    const result = expectResult(await sendCommand(t.deps, reply({ mediaUrls: [a] }), first(t.clock.now())));
    expect(result).toMatchObject({
      status: 'failed',
      error: { code: 'media_scope_missing', retryable: true },
    });
    expect(t.media.heads).toEqual([]);
    expect(t.tokens.calls).toHaveLength(0);
    expect(t.channels.items.get('ch1')!.health.lastError).toMatchObject({ code: 'media_scope_missing' });
  });

  it('an upload X does not answer → retried later, the key free and the budget refunded; nothing posted', async () => {
    const t = setup();
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    t.x.uploadScript = [retryable('x_unavailable', 'X could not be reached')];
    const outcome = await sendCommand(t.deps, reply({ mediaUrls: [a] }), first(t.clock.now()));
    expect(outcome.action).toBe('retry');
    expect(t.x.writes).toEqual([]);
    expect(t.budget.used).toEqual({ dm: 0, post: 0 });
    expect(await t.idempotency.get('ch1', reply().idempotencyKey)).toBeNull();
  });

  it('a crash between upload and post → the redelivery checks X, uploads again and posts once', async () => {
    const t = setup();
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    const command = reply({ mediaUrls: [a] });
    const dying = {
      ...t.deps,
      writerFor: (token: string) => {
        const w = t.x.writerFor(token);
        return {
          ...w,
          uploadMedia: async (u: MediaUpload) => {
            await w.uploadMedia(u);
            t.idempotency.down = true; // the process dies: nothing it writes after this lands
            throw new Error('process died');
          },
        };
      },
    };
    await expect(sendCommand(dying, command, first(t.clock.now()))).rejects.toThrow('simulated crash');
    t.idempotency.down = false;
    expect(t.x.uploads).toHaveLength(1);
    expect(t.x.writes).toEqual([]);
    // within the lease the redelivery waits; after it, it looks at X first, then uploads again and posts
    expect((await sendCommand(t.deps, command, first(t.clock.now(), 2))).action).toBe('retry');
    t.clock.advanceSeconds(120);
    const result = expectResult(await sendCommand(t.deps, command, first(t.clock.now(), 3)));
    expect(result.status).toBe('sent');
    expect(t.x.lookups).toHaveLength(1);
    expect(t.x.uploads).toHaveLength(2);
    expect(t.x.writes).toEqual([expect.objectContaining({ op: 'reply', media: ['7001'] })]);
    // and again: the stored result, nothing more at X
    expectResult(await sendCommand(t.deps, command, first(t.clock.now(), 4)));
    expect(t.x.writes).toHaveLength(1);
    expect(t.x.uploads).toHaveLength(2);
  });

  it('the record taken over during a long upload → no post from this attempt, budget refunded', async () => {
    const t = setup();
    const a = t.media.put(s3('a.png'), 'image/png', Buffer.from('img'));
    const command = reply({ mediaUrls: [a] });
    const slow = {
      ...t.deps,
      writerFor: (token: string) => {
        const w = t.x.writerFor(token);
        return {
          ...w,
          uploadMedia: async (u: MediaUpload) => {
            const r = await w.uploadMedia(u);
            // meanwhile the lease ran out and another delivery took the record over
            const record = t.idempotency.records.get(`ch1|${command.idempotencyKey}`)!;
            record.owner = 'another-delivery';
            return r;
          },
        };
      },
    };
    const outcome = await sendCommand(slow, command, first(t.clock.now()));
    expect(outcome).toMatchObject({ action: 'retry', reason: 'claim_lost' });
    expect(t.x.writes).toEqual([]);
    expect(t.budget.used).toEqual({ dm: 0, post: 0 });
    expect(t.events).toContain('lease_lost_before_write');
  });
});

describe('sameText after a crash: X appends the media link to a post', () => {
  it('matches the sent text against X’s text with trailing t.co links, and still tells other texts apart', () => {
    expect(sameText('Sorry! Like this one?', 'Sorry! Like this one? https://t.co/AbC123')).toBe(true);
    expect(sameText('See https://x.co/a', 'See https://t.co/1 https://t.co/2')).toBe(true);
    expect(sameText('Sorry! Like this one?', 'Another text https://t.co/AbC123')).toBe(false);
  });
});
