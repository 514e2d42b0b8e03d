import { inboundMessageSchema } from '../../../contracts';
import {
  bestMp4Variant,
  conversationIdOf,
  dmToInbound,
  mediaToAttachment,
  mentionToInbound,
  shouldDeliverDm,
  shouldDeliverMention,
} from '../../../core/inbound/mapping';
import type { XIncludes } from '../../../core/inbound/types';
import { ACCOUNT, dm, tweet } from './fakes';

const ctx = { channelId: 'ch1', account: ACCOUNT, receivedAt: '2026-01-01T01:00:00.000Z' };
const includes: XIncludes = {
  users: [{ id: '2000', username: 'carla', name: 'Carla', profile_image_url: 'https://pbs.twimg.com/a.jpg' }],
  media: [
    { media_key: '3_1', type: 'photo', url: 'https://pbs.twimg.com/media/1.jpg' },
    { media_key: '7_2', type: 'video', preview_image_url: 'https://pbs.twimg.com/media/2.jpg' },
    { media_key: '16_3', type: 'animated_gif' },
  ],
};

describe('mentionToInbound', () => {
  it('maps author, conversation, reply target, reply-to id, media and the DM link', () => {
    const t = tweet(42, '2000', {
      conversation_id: '40',
      referenced_tweets: [{ type: 'replied_to', id: '41' }],
      attachments: { media_keys: ['3_1', '7_2', '16_3'] },
    });
    const m = inboundMessageSchema.parse(mentionToInbound(t, includes, ctx));
    expect(m).toMatchObject({
      id: 'x:tweet:42',
      kind: 'mention',
      conversationId: '40',
      inReplyToId: '41',
      author: { id: '2000', username: 'carla', name: 'Carla', avatarUrl: 'https://pbs.twimg.com/a.jpg' },
      replyTo: { kind: 'reply', targetId: '42' },
      dmLink: 'https://x.com/messages/compose?recipient_id=1000',
      attachments: [
        { type: 'photo', url: 'https://pbs.twimg.com/media/1.jpg' },
        { type: 'video', url: 'https://pbs.twimg.com/media/2.jpg' },
      ],
    });
  });

  it('uses note_tweet.text for long posts', () => {
    const long = 'x'.repeat(1000);
    const m = mentionToInbound(
      tweet(1, '2000', { text: 'x'.repeat(280), note_tweet: { text: long } }),
      includes,
      ctx,
    );
    expect(inboundMessageSchema.parse(m).text).toBe(long);
  });

  it('treats a post without conversation_id as its own root and an unknown author as nameless', () => {
    const m = inboundMessageSchema.parse(
      mentionToInbound(tweet(5, '9', { conversation_id: undefined }), {}, ctx),
    );
    expect(m.conversationId).toBe('5');
    expect(m.author).toEqual({ id: '9', username: '', name: '', avatarUrl: null });
    expect(m.inReplyToId).toBeNull();
  });
});

describe('shouldDeliverMention', () => {
  it.each([
    ['a mention', tweet(1), false, true],
    ['the account own post', tweet(1, ACCOUNT.id), false, false],
    [
      'a pure repost',
      tweet(1, '2000', { referenced_tweets: [{ type: 'retweeted', id: '9' }] }),
      false,
      false,
    ],
    [
      'a pure repost with includeReposts',
      tweet(1, '2000', { referenced_tweets: [{ type: 'retweeted', id: '9' }] }),
      true,
      true,
    ],
    ['a quote', tweet(1, '2000', { referenced_tweets: [{ type: 'quoted', id: '9' }] }), false, true],
    ['a reply', tweet(1, '2000', { referenced_tweets: [{ type: 'replied_to', id: '9' }] }), false, true],
  ])('%s', (_n, t, includeReposts, expected) => {
    expect(shouldDeliverMention(t, ACCOUNT.id, includeReposts)).toBe(expected);
  });
});

describe('mention media (X-API.md §9: media.fields=url,preview_image_url,variants,alt_text)', () => {
  const video = {
    media_key: '7_9',
    type: 'video',
    preview_image_url: 'https://pbs.twimg.com/ext_tw_video_thumb/9/pu/img/p.jpg',
    alt_text: 'the parcel, crushed',
    // as X lists them: an HLS playlist (no bit rate) and mp4s of several sizes, in no set order
    variants: [
      { content_type: 'application/x-mpegURL', url: 'https://video.twimg.com/ext_tw_video/9/pu/pl/p.m3u8' },
      {
        bit_rate: 832000,
        content_type: 'video/mp4',
        url: 'https://video.twimg.com/ext_tw_video/9/pu/vid/640x360/m.mp4',
      },
      {
        bit_rate: 2176000,
        content_type: 'video/mp4',
        url: 'https://video.twimg.com/ext_tw_video/9/pu/vid/1280x720/h.mp4',
      },
      {
        bit_rate: 256000,
        content_type: 'video/mp4',
        url: 'https://video.twimg.com/ext_tw_video/9/pu/vid/320x180/l.mp4',
      },
    ],
  };
  const gif = {
    media_key: '16_8',
    type: 'animated_gif',
    preview_image_url: 'https://pbs.twimg.com/tweet_video_thumb/g.jpg',
    variants: [{ bit_rate: 0, content_type: 'video/mp4', url: 'https://video.twimg.com/tweet_video/g.mp4' }],
  };
  const photo = {
    media_key: '3_7',
    type: 'photo',
    url: 'https://pbs.twimg.com/media/Fx.png',
    alt_text: 'error 0x80070005',
  };
  const withMedia: XIncludes = { ...includes, media: [video, gif, photo] };

  it('a video carries its best mp4 variant by bit rate, the still as previewUrl, its alt text and type', () => {
    const t = tweet(50, '2000', { attachments: { media_keys: ['7_9', '16_8', '3_7'] } });
    const m = inboundMessageSchema.parse(mentionToInbound(t, withMedia, ctx));

    expect(m.attachments).toEqual([
      {
        type: 'video',
        url: 'https://video.twimg.com/ext_tw_video/9/pu/vid/1280x720/h.mp4',
        contentType: 'video/mp4',
        previewUrl: 'https://pbs.twimg.com/ext_tw_video_thumb/9/pu/img/p.jpg',
        altText: 'the parcel, crushed',
      },
      {
        type: 'animated_gif',
        url: 'https://video.twimg.com/tweet_video/g.mp4',
        contentType: 'video/mp4',
        previewUrl: 'https://pbs.twimg.com/tweet_video_thumb/g.jpg',
      },
      {
        type: 'photo',
        url: 'https://pbs.twimg.com/media/Fx.png',
        contentType: 'image/png',
        altText: 'error 0x80070005',
      },
    ]);
  });

  it('picks the same variant whatever order X lists them in', () => {
    expect(bestMp4Variant({ ...video, variants: [...video.variants].reverse() })?.url).toBe(
      'https://video.twimg.com/ext_tw_video/9/pu/vid/1280x720/h.mp4',
    );
    expect(bestMp4Variant({ ...video, variants: video.variants.slice(0, 1) })).toBeUndefined();
  });

  it('a video without an mp4 variant falls back to its still; media without any URL is left out', () => {
    expect(
      mediaToAttachment({
        media_key: '7_1',
        type: 'video',
        preview_image_url: 'https://pbs.twimg.com/s.jpg',
      }),
    ).toEqual({
      type: 'video',
      url: 'https://pbs.twimg.com/s.jpg',
    });
    expect(mediaToAttachment({ media_key: '7_2', type: 'video' })).toBeUndefined();
    expect(mediaToAttachment({ media_key: '3_2', type: 'photo' })).toBeUndefined();
  });
});

describe('dmToInbound', () => {
  it('maps a received DM with its conversation as the reply target', () => {
    const e = dm(77, '2000', { attachments: { media_keys: ['3_1'] } });
    const m = inboundMessageSchema.parse(dmToInbound(e, includes, ctx));
    expect(m).toMatchObject({
      id: 'x:dm:77',
      kind: 'dm',
      conversationId: '1000-2000',
      replyTo: { kind: 'dm', targetId: '1000-2000' },
      inReplyToId: null,
      author: { username: 'carla' },
      attachments: [{ type: 'photo', url: 'https://pbs.twimg.com/media/1.jpg' }],
    });
    expect(m.dmLink).toBeUndefined();
  });

  it('skips DMs the account sent and non-message events', () => {
    expect(shouldDeliverDm(dm(1, ACCOUNT.id), ACCOUNT.id)).toBe(false);
    expect(shouldDeliverDm(dm(1, '2000', { event_type: 'ParticipantsJoin' }), ACCOUNT.id)).toBe(false);
    expect(shouldDeliverDm(dm(1, '2000'), ACCOUNT.id)).toBe(true);
  });

  it('orders one-to-one conversation ids numerically', () => {
    expect(conversationIdOf('99', '100')).toBe('99-100');
    expect(conversationIdOf('100', '99')).toBe('99-100');
  });
});
