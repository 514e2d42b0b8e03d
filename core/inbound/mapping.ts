/**
 * X items → inbound v1 messages (DESIGN.md "Contracts", fixed), and the rules for which items are
 * delivered at all: never the account's own posts or DMs, no pure reposts unless asked for.
 */
import { INBOUND_SCHEMA, type InboundMessage } from '../../contracts';
import type { XDmEventData, XIncludes, XMediaData, XTweetData, XUserData } from './types';

/** Who the messages are for. */
export interface MappingContext {
  channelId: string;
  account: { id: string; username: string };
  /** ISO time the poller received the item. */
  receivedAt: string;
}

/** Compares two X ids (decimal strings up to 19 digits) numerically. */
export function compareXIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function findUser(includes: XIncludes, id: string | undefined): XUserData | undefined {
  return id ? includes.users?.find((u) => u.id === id) : undefined;
}

/** Content types X's photo URLs name by their extension (X gives no type for photos). */
const PHOTO_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** The mp4 variant with the highest bit rate (X lists an HLS playlist and mp4s of several sizes). */
export function bestMp4Variant(media: XMediaData): { url: string; bit_rate?: number } | undefined {
  let best: { url: string; bit_rate?: number } | undefined;
  for (const v of media.variants ?? []) {
    if (v.content_type !== 'video/mp4' || !v.url) continue;
    if (!best || (v.bit_rate ?? 0) > (best.bit_rate ?? 0)) best = v;
  }
  return best;
}

/**
 * One inbound attachment per media object: photos by their `url`; videos and GIFs by their best mp4
 * variant (`previewUrl` the still), or by the still alone when X lists no mp4. `altText` and
 * `contentType` where X gives them (a photo's type by its URL's extension).
 */
export function mediaToAttachment(media: XMediaData): InboundMessage['attachments'][number] | undefined {
  const altText = media.alt_text ? { altText: media.alt_text } : {};
  if (media.type === 'photo' || (!media.variants?.length && media.url)) {
    if (!media.url) return undefined;
    const ext = /\.([a-z0-9]+)(?:[?#]|$)/i
      .exec(new URL(media.url, 'https://x.invalid').pathname)?.[1]
      ?.toLowerCase();
    const contentType = ext ? PHOTO_TYPES[ext] : undefined;
    return { type: media.type, url: media.url, ...(contentType ? { contentType } : {}), ...altText };
  }
  const best = bestMp4Variant(media);
  if (best) {
    return {
      type: media.type,
      url: best.url,
      contentType: 'video/mp4',
      ...(media.preview_image_url ? { previewUrl: media.preview_image_url } : {}),
      ...altText,
    };
  }
  return media.preview_image_url ? { type: media.type, url: media.preview_image_url, ...altText } : undefined;
}

/** A mention's media: public CDN URLs, mapped by {@link mediaToAttachment}. */
function mentionAttachmentsOf(includes: XIncludes, mediaKeys: string[] | undefined) {
  const out: InboundMessage['attachments'] = [];
  for (const key of mediaKeys ?? []) {
    const media: XMediaData | undefined = includes.media?.find((m) => m.media_key === key);
    const attachment = media && mediaToAttachment(media);
    if (attachment) out.push(attachment);
  }
  return out;
}

/**
 * A DM's media as X gives it: its `ton.twitter.com` URL, which needs the channel's X token. The poller
 * replaces it by a presigned URL of its copy in the media bucket, or marks it unavailable (./dm-media.ts).
 */
function dmAttachmentsOf(includes: XIncludes, mediaKeys: string[] | undefined) {
  const out: Array<{ type: string; url: string }> = [];
  for (const key of mediaKeys ?? []) {
    const media: XMediaData | undefined = includes.media?.find((m) => m.media_key === key);
    const url = media?.url ?? media?.preview_image_url;
    if (media && url) out.push({ type: media.type, url });
  }
  return out;
}

/** The inbound `author` of user `id`, from `includes.users` (empty names when X did not include it). */
export function authorOf(includes: XIncludes, id: string) {
  const user = findUser(includes, id);
  return {
    id,
    username: user?.username ?? '',
    name: user?.name ?? '',
    avatarUrl: user?.profile_image_url ?? null,
  };
}

/** Whether a post is a pure repost (a retweet, not a quote). */
export const isPureRepost = (t: XTweetData) =>
  Boolean(t.referenced_tweets?.some((r) => r.type === 'retweeted'));

/** Whether a mention is delivered: not the account's own post, and no pure repost unless `includeReposts`. */
export function shouldDeliverMention(t: XTweetData, accountId: string, includeReposts: boolean): boolean {
  if (!t.author_id || t.author_id === accountId) return false;
  if (isPureRepost(t) && !includeReposts) return false;
  return true;
}

/** Whether a DM event is delivered: a message the account received (not one it sent). */
export function shouldDeliverDm(e: XDmEventData, accountId: string): boolean {
  return e.event_type === 'MessageCreate' && Boolean(e.sender_id) && e.sender_id !== accountId;
}

/** The DM deep link to the account, for agents to paste into a public reply. */
export const dmLinkFor = (accountId: string) => `https://x.com/messages/compose?recipient_id=${accountId}`;

/** Maps a mention to an inbound message; the reply target is the mention itself. */
export function mentionToInbound(t: XTweetData, includes: XIncludes, ctx: MappingContext): InboundMessage {
  const repliedTo = t.referenced_tweets?.find((r) => r.type === 'replied_to')?.id ?? null;
  return {
    schema: INBOUND_SCHEMA,
    id: `x:tweet:${t.id}`,
    channelId: ctx.channelId,
    account: { id: ctx.account.id, username: ctx.account.username },
    kind: 'mention',
    // a post without conversation_id is its own thread root
    conversationId: t.conversation_id ?? t.id,
    author: authorOf(includes, t.author_id!),
    // long posts: `text` is cut at 280 characters, `note_tweet.text` is the whole post
    text: t.note_tweet?.text ?? t.text,
    createdAt: t.created_at ?? ctx.receivedAt,
    inReplyToId: repliedTo,
    attachments: mentionAttachmentsOf(includes, t.attachments?.media_keys),
    replyTo: { kind: 'reply', targetId: t.id },
    receivedAt: ctx.receivedAt,
    dmLink: dmLinkFor(ctx.account.id),
  };
}

/** Maps a received DM event to an inbound message; the reply target is its conversation. */
export function dmToInbound(e: XDmEventData, includes: XIncludes, ctx: MappingContext): InboundMessage {
  const conversationId = e.dm_conversation_id ?? conversationIdOf(ctx.account.id, e.sender_id!);
  return {
    schema: INBOUND_SCHEMA,
    id: `x:dm:${e.id}`,
    channelId: ctx.channelId,
    account: { id: ctx.account.id, username: ctx.account.username },
    kind: 'dm',
    conversationId,
    author: authorOf(includes, e.sender_id!),
    text: e.text ?? '',
    createdAt: e.created_at ?? ctx.receivedAt,
    inReplyToId: null,
    attachments: dmAttachmentsOf(includes, e.attachments?.media_keys),
    replyTo: { kind: 'dm', targetId: conversationId },
    receivedAt: ctx.receivedAt,
  };
}

/** X's one-to-one conversation id: `<smaller id>-<larger id>` (X-API.md §2 "IDs"). */
export function conversationIdOf(a: string, b: string): string {
  return compareXIds(a, b) <= 0 ? `${a}-${b}` : `${b}-${a}`;
}
