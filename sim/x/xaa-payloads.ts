/**
 * The bodies X Activity API webhooks carry (X-API.md §9; docs.x.com/x-api/activity/event-payloads),
 * rendered from the simulator's state. Envelope: `{"data":{event_uuid, filter, event_type, tag?,
 * payload, includes?}}`. What X does oddly, kept on purpose:
 * - post events: `payload` is a v2 Post with a fixed, rich field set (no `tweet.fields` to choose),
 *   counts and entity offsets doubled as `*_str` strings, `in_reply_to_tweet_id` on replies, and the
 *   users in `includes.users`;
 * - `dm.received`/`dm.sent`: the v1.1 Account Activity shape (`direct_message_events` + a `users` map
 *   whose values are wrapped in `data`), with **no `dm_conversation_id`** (X-API.md §9);
 * - `chat.*` (XChat): opaque ciphertext and key material only, never the text;
 * - `oauth.revoke`: an empty `filter`.
 * Rendering is a pure function of the stored objects, so a replayed event is byte-identical.
 */
import { dmMediaUrl } from './dm-media';
import { createCipheriv, createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import twitterText from 'twitter-text';
import { renderMedia, renderTweet, renderUser, type RenderContext } from './render';
import type { SimChat, SimDm, SimStore, SimSubscription, SimTweet, SimXaaEvent } from './store';

/** The post fields an XAA post payload carries (X's samples: no choice, no `tweet.fields`). */
const POST_FIELDS = new Set([
  'author_id',
  'created_at',
  'conversation_id',
  'in_reply_to_user_id',
  'referenced_tweets',
  'attachments',
  'entities',
  'note_tweet',
  'lang',
  'possibly_sensitive',
  'reply_settings',
  'public_metrics',
  'edit_controls',
  'display_text_range',
]);
const USER_FIELDS = new Set([
  'created_at',
  'description',
  'profile_image_url',
  'protected',
  'verified',
  'verified_type',
  'public_metrics',
  'most_recent_tweet_id',
]);
const MEDIA_FIELDS = new Set(['url', 'width', 'height', 'alt_text']);

/** X adds a `<name>_str` twin to every number in XAA payloads (`like_count_str`, `start_str`, …). */
function withStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withStrings);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = withStrings(v);
    if (typeof v === 'number' && Number.isInteger(v) && k !== 'display_text_range')
      out[`${k}_str`] = String(v);
  }
  return out;
}

function postPayload(tweet: SimTweet, ctx: RenderContext): Record<string, unknown> {
  const post = withStrings(renderTweet(tweet, POST_FIELDS, ctx)) as Record<string, unknown>;
  post.paid_partnership = false;
  if (tweet.inReplyToId) post.in_reply_to_tweet_id = tweet.inReplyToId;
  return post;
}

function userPayload(userId: string, ctx: RenderContext): Record<string, unknown> | null {
  const user = ctx.store.user(userId);
  if (!user) return null;
  return {
    ...(withStrings(renderUser(user, USER_FIELDS, ctx)) as Record<string, unknown>),
    url: '',
    profile_banner_url: '',
    is_identity_verified: false,
  };
}

/** `includes` of a post event: the author and every user it names, the post it answers, its media. */
function postIncludes(tweet: SimTweet, ctx: RenderContext): Record<string, unknown[]> {
  const userIds = new Set<string>([tweet.authorId]);
  for (const name of twitterText.extractMentions(tweet.text)) {
    const u = ctx.store.userByName(name);
    if (u) userIds.add(u.id);
  }
  if (tweet.inReplyToUserId) userIds.add(tweet.inReplyToUserId);
  const includes: Record<string, unknown[]> = {};
  const users = [...userIds].map((id) => userPayload(id, ctx)).filter(Boolean) as unknown[];
  if (users.length) includes.users = users;
  const parent = tweet.inReplyToId ? ctx.store.tweet(tweet.inReplyToId) : undefined;
  const quoted = tweet.quoteOfId ? ctx.store.tweet(tweet.quoteOfId) : undefined;
  const refs = [parent, quoted].filter((t): t is SimTweet => Boolean(t)).map((t) => postPayload(t, ctx));
  if (refs.length) includes.tweets = refs;
  // [uncertain] X's samples show no media; the polling path gets it from expansions, so it is here too.
  if (tweet.mediaKeys.length) includes.media = tweet.mediaKeys.map((k) => renderMedia(k, MEDIA_FIELDS, ctx));
  return includes;
}

/** v1.1 entities of a DM text (`user_mentions`, `urls`, `hashtags`, `symbols`, with `indices`). */
function dmEntities(text: string, store: SimStore) {
  return {
    hashtags: twitterText
      .extractHashtagsWithIndices(text)
      .map((h) => ({ text: h.hashtag, indices: h.indices })),
    symbols: [],
    user_mentions: twitterText.extractMentionsWithIndices(text).map((m) => {
      const u = store.userByName(m.screenName);
      return {
        screen_name: m.screenName,
        name: u?.name ?? m.screenName,
        id: u ? Number(u.id) : 0,
        id_str: u?.id ?? '',
        indices: m.indices,
      };
    }),
    urls: twitterText.extractUrlsWithIndices(text).map((u) => ({
      url: u.url,
      expanded_url: u.url,
      display_url: u.url.replace(/^https?:\/\//, ''),
      indices: u.indices,
    })),
  };
}

function dmPayload(dm: SimDm, ctx: RenderContext): Record<string, unknown> {
  const messageData: Record<string, unknown> = { text: dm.text, entities: dmEntities(dm.text, ctx.store) };
  if (dm.mediaKeys.length) {
    const key = dm.mediaKeys[0];
    const mediaId = key.slice(2);
    // v1.1 DM attachment: X's ton URL, which needs the participant's credentials (./dm-media.ts)
    messageData.attachment = {
      type: 'media',
      media: {
        id: Number(mediaId),
        id_str: mediaId,
        media_key: key,
        type: 'photo',
        media_url_https: dmMediaUrl(ctx.origin, dm, key),
      },
    };
  }
  const users: Record<string, unknown> = {};
  for (const id of [dm.senderId, dm.recipientId]) {
    const user = userPayload(id, ctx);
    if (user) users[id] = { data: user };
  }
  return {
    direct_message_events: [
      {
        type: 'message_create',
        id: dm.id,
        created_timestamp: String(dm.createdAt),
        message_create: {
          target: { recipient_id: dm.recipientId },
          sender_id: dm.senderId,
          message_data: messageData,
        },
      },
    ],
    users,
  };
}

function chatPayload(chat: SimChat): Record<string, unknown> {
  const c = chat.crypto;
  return {
    conversation_token: c.conversationToken,
    id: chat.id,
    created_at_msec: String(chat.createdAt),
    sender_id: chat.senderId,
    conversation_id: chat.conversationId,
    conversation_key_version: c.conversationKeyVersion,
    encoded_event: c.encodedEvent,
    conversation_key_change_event: c.conversationKeyChangeEvent,
    message_event_signature: {
      public_key_version: c.publicKeyVersion,
      signature: c.signature,
      signature_version: '7',
      signing_public_key: c.signingPublicKey,
    },
  };
}

/** The id of the object an event is about (what billing and the delivery log key on). */
export function objectIdOf(event: SimXaaEvent): string {
  return event.ref.kind === 'revoke' ? `${event.ref.userId}@${event.ref.at}` : event.ref.id;
}

/** The raw JSON body of one event, or null when its object no longer exists. */
export function renderEvent(
  event: SimXaaEvent,
  sub: Pick<SimSubscription, 'userId' | 'tag'> | undefined,
  ctx: RenderContext,
  appId: string,
): string | null {
  let payload: Record<string, unknown>;
  let includes: Record<string, unknown[]> | undefined;
  const ref = event.ref;
  if (ref.kind === 'tweet') {
    const tweet = ctx.store.tweet(ref.id);
    if (!tweet) return null;
    payload = postPayload(tweet, ctx);
    includes = postIncludes(tweet, ctx);
  } else if (ref.kind === 'dm') {
    const dm = ctx.store.dm(ref.id);
    if (!dm) return null;
    payload = dmPayload(dm, ctx);
  } else if (ref.kind === 'chat') {
    const chat = ctx.store.data.chats.find((c) => c.id === ref.id);
    if (!chat) return null;
    payload = chatPayload(chat);
  } else {
    payload = {
      date_time: new Date(ref.at).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      user_id: ref.userId,
      app_id: appId,
    };
  }
  const filter = event.eventType === 'oauth.revoke' || !sub?.userId ? {} : { user_id: sub.userId };
  const data: Record<string, unknown> = { event_uuid: event.uuid, filter, event_type: event.eventType };
  if (sub?.tag) data.tag = sub.tag;
  data.payload = payload;
  if (includes) data.includes = includes;
  return JSON.stringify({ data });
}

/** X's event uuids are signed 64-bit decimals (the samples show negative ones too). */
export function newEventUuid(): string {
  return BigInt.asIntN(64, randomBytes(8).readBigUInt64BE()).toString();
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const signingKeys = new Map<
  string,
  { privateKey: import('node:crypto').KeyObject; spki: string; version: string }
>();

/**
 * The crypto material of an XChat message: the text encrypted with AES-256-GCM under a throwaway key
 * (so `encoded_event` is real ciphertext the connector cannot read, as without the Chat XDK), a
 * JWT-shaped `conversation_token`, and an ECDSA P-256 signature by a per-sender key.
 */
export function chatCrypto(input: {
  senderId: string;
  recipientId: string;
  text: string;
  now: number;
}): SimChat['crypto'] {
  let key = signingKeys.get(input.senderId);
  if (!key) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    key = {
      privateKey: pair.privateKey,
      spki: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      version: String(input.now - 86_400_000),
    };
    signingKeys.set(input.senderId, key);
  }
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), iv);
  const body = Buffer.concat([cipher.update(input.text, 'utf8'), cipher.final()]);
  const encoded = Buffer.concat([Buffer.from([0x0b, 0x00, 0x01]), iv, body, cipher.getAuthTag()]).toString(
    'base64',
  );
  const claims = {
    requestingUserId: input.recipientId,
    conversationId: randomUUID(),
    iat: Math.floor(input.now / 1000),
  };
  const head = `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify(claims))}`;
  const mac = createHash('sha256').update(head).update(randomBytes(16)).digest();
  return {
    conversationToken: `${head}.${b64url(mac)}`,
    conversationKeyVersion: String(input.now - 3_600_000),
    encodedEvent: encoded,
    conversationKeyChangeEvent: randomBytes(96).toString('base64'),
    publicKeyVersion: key.version,
    signature: sign('sha256', Buffer.from(encoded), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      .toString('base64')
      .replace(/=+$/, ''),
    signingPublicKey: key.spki,
  };
}

/** XChat conversation ids join the two user ids with `:` (larger first in X's sample) [uncertain]. */
export function chatConversationId(a: string, b: string): string {
  const [small, large] = a.length < b.length || (a.length === b.length && a < b) ? [a, b] : [b, a];
  return `${large}:${small}`;
}
