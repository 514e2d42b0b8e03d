/**
 * Renders simulator objects in X API v2's JSON shapes, honouring `*.fields` and `expansions`
 * exactly: default fields only unless more are asked for, `includes` only for requested expansions.
 * Field names are those of X's OpenAPI (spec 2.166, X-API.md §2).
 */
import { dmMediaUrl, SIM_VIDEO_BIT_RATES, simMediaType } from './dm-media';
import twitterText from 'twitter-text';
import type { SimDm, SimStore, SimTweet, SimUser } from './store';

/** Every `tweet.fields` value X accepts (unsupported ones are accepted and simply absent, as on X). */
export const TWEET_FIELDS = [
  'article',
  'attachments',
  'author_id',
  'card_uri',
  'community_id',
  'context_annotations',
  'conversation_id',
  'created_at',
  'display_text_range',
  'edit_controls',
  'edit_history_tweet_ids',
  'entities',
  'geo',
  'id',
  'in_reply_to_user_id',
  'lang',
  'media_metadata',
  'non_public_metrics',
  'note_tweet',
  'organic_metrics',
  'possibly_sensitive',
  'promoted_metrics',
  'public_metrics',
  'referenced_tweets',
  'reply_settings',
  'scopes',
  'source',
  'text',
  'withheld',
];
/** Every `user.fields` value X accepts. */
export const USER_FIELDS = [
  'affiliation',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'location',
  'most_recent_tweet_id',
  'name',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_type',
  'withheld',
];
/** Every `media.fields` value X accepts. */
export const MEDIA_FIELDS = [
  'alt_text',
  'duration_ms',
  'height',
  'media_key',
  'non_public_metrics',
  'organic_metrics',
  'preview_image_url',
  'promoted_metrics',
  'public_metrics',
  'type',
  'url',
  'variants',
  'width',
];
/** Every `dm_event.fields` value X accepts. */
export const DM_EVENT_FIELDS = [
  'attachments',
  'created_at',
  'dm_conversation_id',
  'entities',
  'event_type',
  'id',
  'participant_ids',
  'referenced_tweets',
  'sender_id',
  'text',
];
/** Expansions on post endpoints. */
export const TWEET_EXPANSIONS = [
  'article.cover_media',
  'article.media_entities',
  'attachments.media_keys',
  'attachments.media_source_tweet',
  'attachments.poll_ids',
  'author_id',
  'edit_history_tweet_ids',
  'entities.mentions.username',
  'geo.place_id',
  'in_reply_to_user_id',
  'entities.note.mentions.username',
  'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys',
  'referenced_tweets.id.author_id',
];
/** Expansions on DM endpoints. */
export const DM_EXPANSIONS = [
  'attachments.media_keys',
  'participant_ids',
  'referenced_tweets.id',
  'sender_id',
];
/** Expansions on user endpoints. */
export const USER_EXPANSIONS = ['affiliation.user_id', 'most_recent_tweet_id', 'pinned_tweet_id'];

/** Which fields and expansions a request asked for. */
export interface FieldSelection {
  tweet: Set<string>;
  user: Set<string>;
  media: Set<string>;
  dm: Set<string>;
  expansions: Set<string>;
}

/** Context for rendering: the store, the sim's own origin (media/avatar URLs) and the viewer. */
export interface RenderContext {
  store: SimStore;
  origin: string;
  viewerId: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

// Posts never change, so their visible text is computed once (parseTweet is the costliest step of a read).
const visibleCache = new WeakMap<SimTweet, { text: string; long: boolean }>();
function visibleOf(tweet: SimTweet): { text: string; long: boolean } {
  let v = visibleCache.get(tweet);
  if (!v) {
    v = visibleText(tweet.text);
    visibleCache.set(tweet, v);
  }
  return v;
}

/** X's `text` for a long post: the first part that fits 280 weighted chars, with an ellipsis. */
function visibleText(full: string): { text: string; long: boolean } {
  const parsed = twitterText.parseTweet(full);
  if (parsed.valid || parsed.weightedLength <= 280) return { text: full, long: false };
  // validRangeEnd is the last index that still fits; leave room for the ellipsis.
  const cut = Math.max(0, parsed.validRangeEnd - 1);
  return { text: `${full.slice(0, cut).trimEnd()}…`, long: true };
}

/** What twitter-text finds in a text: a pure function of the text, so computed once per post. */
interface Extracted {
  mentions: { screenName: string; indices: [number, number] }[];
  urls: { url: string; indices: [number, number] }[];
  hashtags: { hashtag: string; indices: [number, number] }[];
}
const extractedCache = new WeakMap<SimTweet, { visible?: Extracted; full?: Extracted }>();
function extractedOf(tweet: SimTweet, which: 'visible' | 'full'): Extracted {
  let entry = extractedCache.get(tweet);
  if (!entry) {
    entry = {};
    extractedCache.set(tweet, entry);
  }
  let found = entry[which];
  if (!found) {
    const text = which === 'visible' ? visibleOf(tweet).text : tweet.text;
    found = {
      mentions: twitterText.extractMentionsWithIndices(text),
      urls: twitterText.extractUrlsWithIndices(text),
      hashtags: twitterText.extractHashtagsWithIndices(text),
    };
    entry[which] = found;
  }
  return found;
}

function entitiesOf(tweet: SimTweet, which: 'visible' | 'full', ctx: RenderContext) {
  const found = extractedOf(tweet, which);
  const out: Record<string, unknown[]> = {};
  // Mention ids are looked up on every render: a named user may be created after the post.
  const mentions = found.mentions.map((m) => {
    const user = ctx.store.userByName(m.screenName);
    return {
      start: m.indices[0],
      end: m.indices[1],
      username: m.screenName,
      ...(user ? { id: user.id } : {}),
    };
  });
  if (mentions.length) out.mentions = mentions;
  const urls = found.urls.map((u) => ({
    start: u.indices[0],
    end: u.indices[1],
    url: u.url,
    expanded_url: u.url,
    display_url: u.url.replace(/^https?:\/\//, ''),
  }));
  if (urls.length) out.urls = urls;
  const hashtags = found.hashtags.map((h) => ({ start: h.indices[0], end: h.indices[1], tag: h.hashtag }));
  if (hashtags.length) out.hashtags = hashtags;
  return Object.keys(out).length ? out : undefined;
}

/** A post with the requested fields. */
export function renderTweet(
  tweet: SimTweet,
  fields: Set<string>,
  ctx: RenderContext,
): Record<string, unknown> {
  const { text, long } = visibleOf(tweet);
  const out: Record<string, unknown> = {
    id: tweet.id,
    text,
    edit_history_tweet_ids: [tweet.id],
  };
  if (fields.has('author_id')) out.author_id = tweet.authorId;
  if (fields.has('created_at')) out.created_at = iso(tweet.createdAt);
  if (fields.has('conversation_id')) out.conversation_id = tweet.conversationId;
  if (fields.has('in_reply_to_user_id') && tweet.inReplyToUserId)
    out.in_reply_to_user_id = tweet.inReplyToUserId;
  if (fields.has('referenced_tweets')) {
    const refs = [];
    if (tweet.inReplyToId) refs.push({ type: 'replied_to', id: tweet.inReplyToId });
    if (tweet.quoteOfId) refs.push({ type: 'quoted', id: tweet.quoteOfId });
    if (refs.length) out.referenced_tweets = refs;
  }
  if (fields.has('attachments') && tweet.mediaKeys.length) out.attachments = { media_keys: tweet.mediaKeys };
  if (fields.has('entities')) {
    const entities = entitiesOf(tweet, 'visible', ctx);
    if (entities) out.entities = entities;
  }
  if (fields.has('note_tweet') && long) {
    const entities = entitiesOf(tweet, 'full', ctx);
    out.note_tweet = { text: tweet.text, ...(entities ? { entities } : {}) };
  }
  if (fields.has('lang'))
    out.lang = /[ñ¿¡áéíóú]|\b(hola|gracias|pedido|por favor)\b/i.test(tweet.text) ? 'es' : 'en';
  if (fields.has('possibly_sensitive')) out.possibly_sensitive = false;
  if (fields.has('reply_settings')) out.reply_settings = 'everyone';
  if (fields.has('public_metrics')) {
    out.public_metrics = {
      retweet_count: 0,
      reply_count: 0,
      like_count: 0,
      quote_count: 0,
      bookmark_count: 0,
      impression_count: 0,
    };
  }
  if (fields.has('edit_controls')) {
    out.edit_controls = {
      edits_remaining: 5,
      is_edit_eligible: false,
      editable_until: iso(tweet.createdAt + 3_600_000),
    };
  }
  if (fields.has('display_text_range')) out.display_text_range = [0, Array.from(text).length];
  return out;
}

/** Whether `owner` receives DMs from `viewer`. */
export function receivesDmFrom(ctx: RenderContext, owner: SimUser, viewerId: string | null): boolean {
  if (owner.dmAcceptance === 'everyone') return true;
  if (owner.dmAcceptance === 'none' || !viewerId) return false;
  return ctx.store.isFollowing(owner.id, viewerId);
}

/** A user with the requested fields. */
export function renderUser(user: SimUser, fields: Set<string>, ctx: RenderContext): Record<string, unknown> {
  const out: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  if (fields.has('created_at')) out.created_at = iso(user.createdAt);
  if (fields.has('description')) out.description = user.description;
  if (fields.has('profile_image_url')) out.profile_image_url = `${ctx.origin}/_sim/avatars/${user.id}.svg`;
  if (fields.has('protected')) out.protected = false;
  if (fields.has('verified')) out.verified = false;
  if (fields.has('verified_type')) out.verified_type = 'none';
  if (fields.has('receives_your_dm')) out.receives_your_dm = receivesDmFrom(ctx, user, ctx.viewerId);
  if (fields.has('public_metrics')) {
    const followers = ctx.store.data.users.filter((u) => ctx.store.isFollowing(u.id, user.id)).length;
    out.public_metrics = {
      followers_count: followers,
      following_count: ctx.store.follows(user.id).length,
      tweet_count: ctx.store.postsBy(user.id).length,
      listed_count: 0,
      like_count: 0,
      media_count: 0,
    };
  }
  if (fields.has('connection_status') && ctx.viewerId && ctx.viewerId !== user.id) {
    const status = [];
    if (ctx.store.isFollowing(ctx.viewerId, user.id)) status.push('following');
    if (ctx.store.isFollowing(user.id, ctx.viewerId)) status.push('followed_by');
    out.connection_status = status;
  }
  if (fields.has('most_recent_tweet_id')) {
    const posts = ctx.store.postsBy(user.id);
    if (posts.length) out.most_recent_tweet_id = posts[posts.length - 1].id;
  }
  return out;
}

/**
 * A media object with the requested fields: a photo has its `url`; a video or GIF (keys `7_`, `16_`)
 * its still as `preview_image_url` and `variants` (an HLS playlist and mp4s of two bit rates, served
 * by `/_sim/media/:key-<bit rate>.mp4`), as X gives them.
 */
export function renderMedia(key: string, fields: Set<string>, ctx: RenderContext): Record<string, unknown> {
  const type = simMediaType(key);
  const out: Record<string, unknown> = { media_key: key, type };
  if (type !== 'photo') {
    if (fields.has('preview_image_url')) out.preview_image_url = `${ctx.origin}/_sim/media/${key}.svg`;
    if (fields.has('variants'))
      out.variants = [
        { content_type: 'application/x-mpegURL', url: `${ctx.origin}/_sim/media/${key}.m3u8` },
        ...SIM_VIDEO_BIT_RATES.map((bit_rate) => ({
          bit_rate,
          content_type: 'video/mp4',
          url: `${ctx.origin}/_sim/media/${key}-${bit_rate}.mp4`,
        })),
      ];
  } else if (fields.has('url')) out.url = `${ctx.origin}/_sim/media/${key}.svg`;
  if (fields.has('width')) out.width = 640;
  if (fields.has('height')) out.height = 480;
  if (fields.has('alt_text')) out.alt_text = 'simulated photo';
  return out;
}

/** A DM event with the requested fields (defaults: id, event_type, text). */
export function renderDm(dm: SimDm, fields: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: dm.id, event_type: 'MessageCreate', text: dm.text };
  if (fields.has('created_at')) out.created_at = iso(dm.createdAt);
  if (fields.has('sender_id')) out.sender_id = dm.senderId;
  if (fields.has('dm_conversation_id')) out.dm_conversation_id = dm.conversationId;
  if (fields.has('attachments') && dm.mediaKeys.length) out.attachments = { media_keys: dm.mediaKeys };
  return out;
}

/** Canonical key of a field set, for the render caches (selections are reused, so memoised by identity). */
function keyOf(fields: ReadonlySet<string>): string {
  let key = fieldKeys.get(fields);
  if (key === undefined) {
    key = [...fields].sort().join(',');
    fieldKeys.set(fields, key);
  }
  return key;
}
const fieldKeys = new WeakMap<ReadonlySet<string>, string>();

/**
 * Response bytes assembled from cached UTF-8 fragments: one copy into the final buffer, no
 * re-encoding of the body and a content-length that is simply the buffer's length.
 */
export class JsonBytes {
  private readonly parts: Buffer[] = [];
  private length = 0;

  /** Appends bytes as they are. */
  bytes(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  /** Appends JSON text (punctuation, small values). */
  text(s: string): this {
    return this.bytes(PUNCTUATION.get(s) ?? Buffer.from(s));
  }

  /** Appends `[a,b,…]`. */
  list(items: readonly Buffer[]): this {
    this.bytes(OPEN_LIST);
    for (let i = 0; i < items.length; i++) {
      if (i) this.bytes(COMMA);
      this.bytes(items[i]);
    }
    return this.bytes(CLOSE_LIST);
  }

  toBuffer(): Buffer {
    // TypedArray#set per part: Buffer.concat wraps every part in a new view first, which costs more
    // than the copy for ~250 small fragments.
    const out = Buffer.allocUnsafe(this.length);
    let pos = 0;
    for (const part of this.parts) {
      out.set(part, pos);
      pos += part.length;
    }
    return out;
  }
}
const OPEN_LIST = Buffer.from('[');
const CLOSE_LIST = Buffer.from(']');
const COMMA = Buffer.from(',');
const PUNCTUATION = new Map(
  ['{', '}', '[', ']', ',', '"data":', '"includes":', '"meta":', '"users":', '"media":', '"tweets":'].map(
    (s) => [s, Buffer.from(s)] as const,
  ),
);

/** Distinct field sets whose renderings a store keeps; a client cycling through more starts over. */
const MAX_FIELD_SETS = 16;
/** Media renderings kept per field set (media keys are unbounded strings, not objects). */
const MAX_MEDIA_JSON = 50_000;

/**
 * Rendered JSON bytes per store and field set. Posts never change; the one outside input of their
 * rendering is which named users exist (mention ids), so post renderings are dropped whenever the
 * store's userEpoch moves. Users never change name, username or description, and media objects are
 * a pure function of (key, fields, origin). A request looks its cache up once; each object is then
 * a single WeakMap/Map lookup.
 */
class RenderCaches {
  epoch = -1;
  readonly tweets = new Map<string, WeakMap<SimTweet, Buffer>>();
  readonly users = new Map<string, WeakMap<SimUser, Buffer>>();
  readonly media = new Map<string, Map<string, Buffer>>();
}
const renderCaches = new WeakMap<SimStore, RenderCaches>();

function cachesOf(ctx: RenderContext): RenderCaches {
  let caches = renderCaches.get(ctx.store);
  if (!caches) {
    caches = new RenderCaches();
    renderCaches.set(ctx.store, caches);
  }
  if (caches.epoch !== ctx.store.userEpoch) {
    caches.epoch = ctx.store.userEpoch;
    caches.tweets.clear();
  }
  return caches;
}

function bucket<V>(map: Map<string, V>, key: string, create: () => V): V {
  let found = map.get(key);
  if (found === undefined) {
    if (map.size >= MAX_FIELD_SETS) map.clear();
    found = create();
    map.set(key, found);
  }
  return found;
}

/** A renderer of one kind of object as cached JSON bytes, bound to one request's field set. */
export type JsonRenderer<T> = (item: T) => Buffer;

/** Renders posts with `fields` as JSON bytes ({@link renderTweet}), cached. Do not mutate the buffers. */
export function tweetJsonRenderer(fields: ReadonlySet<string>, ctx: RenderContext): JsonRenderer<SimTweet> {
  const cache = bucket(cachesOf(ctx).tweets, keyOf(fields), () => new WeakMap<SimTweet, Buffer>());
  return (tweet) => {
    let bytes = cache.get(tweet);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(renderTweet(tweet, fields as Set<string>, ctx)));
      cache.set(tweet, bytes);
    }
    return bytes;
  };
}

// These user fields depend on more than the user (the viewer, follows, posts): never cached.
const LIVE_USER_FIELDS = ['receives_your_dm', 'public_metrics', 'connection_status', 'most_recent_tweet_id'];

/** Renders users with `fields` as JSON bytes ({@link renderUser}); cached unless a field is live. */
export function userJsonRenderer(fields: ReadonlySet<string>, ctx: RenderContext): JsonRenderer<SimUser> {
  const render = (user: SimUser) => Buffer.from(JSON.stringify(renderUser(user, fields as Set<string>, ctx)));
  if (LIVE_USER_FIELDS.some((f) => fields.has(f))) return render;
  const cache = bucket(
    cachesOf(ctx).users,
    `${ctx.origin}|${keyOf(fields)}`,
    () => new WeakMap<SimUser, Buffer>(),
  );
  return (user) => {
    let bytes = cache.get(user);
    if (bytes === undefined) {
      bytes = render(user);
      cache.set(user, bytes);
    }
    return bytes;
  };
}

/** Renders media keys with `fields` as JSON bytes ({@link renderMedia}), cached. */
function mediaJsonRenderer(fields: ReadonlySet<string>, ctx: RenderContext): JsonRenderer<string> {
  const cache = bucket(
    cachesOf(ctx).media,
    `${ctx.origin}|${keyOf(fields)}`,
    () => new Map<string, Buffer>(),
  );
  return (key) => {
    let bytes = cache.get(key);
    if (bytes === undefined) {
      if (cache.size >= MAX_MEDIA_JSON) cache.clear();
      bytes = Buffer.from(JSON.stringify(renderMedia(key, fields as Set<string>, ctx)));
      cache.set(key, bytes);
    }
    return bytes;
  };
}

/**
 * Appends `"includes":{…},` for posts from the requested expansions to `out` (nothing when empty):
 * `users`, `media`, `tweets` in that order, each object from the render caches.
 */
export function appendTweetIncludes(
  out: JsonBytes,
  tweets: readonly SimTweet[],
  sel: FieldSelection,
  ctx: RenderContext,
  tweetJson: JsonRenderer<SimTweet>,
): void {
  const userIds = new Set<string>();
  const mediaKeys = new Set<string>();
  const refTweets = new Map<string, SimTweet>();
  const ex = sel.expansions;
  const authors = ex.has('author_id');
  const replyUsers = ex.has('in_reply_to_user_id');
  const mentioned = ex.has('entities.mentions.username');
  const media = ex.has('attachments.media_keys');
  const refs = ex.has('referenced_tweets.id');
  for (const t of tweets) {
    if (authors) userIds.add(t.authorId);
    if (replyUsers && t.inReplyToUserId) userIds.add(t.inReplyToUserId);
    if (mentioned) {
      for (const m of extractedOf(t, 'visible').mentions) {
        const u = ctx.store.userByName(m.screenName);
        if (u) userIds.add(u.id);
      }
    }
    if (media) for (const k of t.mediaKeys) mediaKeys.add(k);
    if (refs) {
      const replied = t.inReplyToId ? ctx.store.tweet(t.inReplyToId) : undefined;
      if (replied) refTweets.set(replied.id, replied);
      const quoted = t.quoteOfId ? ctx.store.tweet(t.quoteOfId) : undefined;
      if (quoted) refTweets.set(quoted.id, quoted);
    }
  }
  for (const ref of refTweets.values()) {
    if (ex.has('referenced_tweets.id.author_id')) userIds.add(ref.authorId);
    if (ex.has('referenced_tweets.id.attachments.media_keys'))
      for (const k of ref.mediaKeys) mediaKeys.add(k);
  }
  const users: Buffer[] = [];
  if (userIds.size) {
    const userJson = userJsonRenderer(sel.user, ctx);
    for (const id of userIds) {
      const user = ctx.store.user(id);
      if (user) users.push(userJson(user));
    }
  }
  if (!users.length && !mediaKeys.size && !refTweets.size) return;
  out.text('"includes":').text('{');
  let first = true;
  const section = (name: string, items: readonly Buffer[]) => {
    if (!first) out.text(',');
    first = false;
    out.text(name).list(items);
  };
  if (users.length) section('"users":', users);
  if (mediaKeys.size) section('"media":', [...mediaKeys].map(mediaJsonRenderer(sel.media, ctx)));
  if (refTweets.size) section('"tweets":', [...refTweets.values()].map(tweetJson));
  out.text('}').text(',');
}

/** Builds `includes` for DM events. */
export function dmIncludes(
  dms: readonly SimDm[],
  sel: FieldSelection,
  ctx: RenderContext,
): Record<string, unknown[]> | undefined {
  const userIds = new Set<string>();
  const mediaKeys = new Set<string>();
  const dmOfKey = new Map<string, SimDm>();
  for (const dm of dms) {
    if (sel.expansions.has('sender_id')) userIds.add(dm.senderId);
    if (sel.expansions.has('attachments.media_keys'))
      for (const k of dm.mediaKeys) {
        mediaKeys.add(k);
        dmOfKey.set(k, dm);
      }
  }
  const includes = assembleIncludes(userIds, mediaKeys, [], sel, ctx);
  // a DM's media opens only with a participant's credentials: X lists its ton URL (./dm-media.ts)
  if (includes?.media && sel.media.has('url'))
    for (const m of includes.media as Array<Record<string, unknown>>) {
      const dm = dmOfKey.get(String(m.media_key));
      if (dm) m.url = dmMediaUrl(ctx.origin, dm, String(m.media_key));
    }
  return includes;
}

function assembleIncludes(
  userIds: Set<string>,
  mediaKeys: Set<string>,
  tweets: SimTweet[],
  sel: FieldSelection,
  ctx: RenderContext,
): Record<string, unknown[]> | undefined {
  const includes: Record<string, unknown[]> = {};
  const users = [...userIds].map((id) => ctx.store.user(id)).filter((u): u is SimUser => Boolean(u));
  if (users.length) includes.users = users.map((u) => renderUser(u, sel.user, ctx));
  if (mediaKeys.size) includes.media = [...mediaKeys].map((k) => renderMedia(k, sel.media, ctx));
  if (tweets.length) includes.tweets = tweets.map((t) => renderTweet(t, sel.tweet, ctx));
  return Object.keys(includes).length ? includes : undefined;
}
