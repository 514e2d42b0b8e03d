/**
 * Renders simulator objects in X API v2's JSON shapes, honouring `*.fields` and `expansions`
 * exactly: default fields only unless more are asked for, `includes` only for requested expansions.
 * Field names are those of X's OpenAPI (spec 2.166, X-API.md §2).
 */
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

function entitiesOf(text: string, ctx: RenderContext) {
  const out: Record<string, unknown[]> = {};
  const mentions = twitterText.extractMentionsWithIndices(text).map((m) => {
    const user = ctx.store.userByName(m.screenName);
    return {
      start: m.indices[0],
      end: m.indices[1],
      username: m.screenName,
      ...(user ? { id: user.id } : {}),
    };
  });
  if (mentions.length) out.mentions = mentions;
  const urls = twitterText.extractUrlsWithIndices(text).map((u) => ({
    start: u.indices[0],
    end: u.indices[1],
    url: u.url,
    expanded_url: u.url,
    display_url: u.url.replace(/^https?:\/\//, ''),
  }));
  if (urls.length) out.urls = urls;
  const hashtags = twitterText
    .extractHashtagsWithIndices(text)
    .map((h) => ({ start: h.indices[0], end: h.indices[1], tag: h.hashtag }));
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
    const entities = entitiesOf(text, ctx);
    if (entities) out.entities = entities;
  }
  if (fields.has('note_tweet') && long) {
    const entities = entitiesOf(tweet.text, ctx);
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

/** A media object (photos only in the simulator) with the requested fields. */
export function renderMedia(key: string, fields: Set<string>, ctx: RenderContext): Record<string, unknown> {
  const out: Record<string, unknown> = { media_key: key, type: 'photo' };
  if (fields.has('url')) out.url = `${ctx.origin}/_sim/media/${key}.svg`;
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

/** Builds `includes` for posts from the requested expansions. */
export function tweetIncludes(
  tweets: readonly SimTweet[],
  sel: FieldSelection,
  ctx: RenderContext,
): Record<string, unknown[]> | undefined {
  const userIds = new Set<string>();
  const mediaKeys = new Set<string>();
  const refTweets = new Map<string, SimTweet>();
  const ex = sel.expansions;
  for (const t of tweets) {
    if (ex.has('author_id')) userIds.add(t.authorId);
    if (ex.has('in_reply_to_user_id') && t.inReplyToUserId) userIds.add(t.inReplyToUserId);
    if (ex.has('entities.mentions.username')) {
      for (const name of twitterText.extractMentions(visibleOf(t).text)) {
        const u = ctx.store.userByName(name);
        if (u) userIds.add(u.id);
      }
    }
    if (ex.has('attachments.media_keys')) for (const k of t.mediaKeys) mediaKeys.add(k);
    if (ex.has('referenced_tweets.id')) {
      for (const id of [t.inReplyToId, t.quoteOfId]) {
        const ref = id ? ctx.store.tweet(id) : undefined;
        if (ref) refTweets.set(ref.id, ref);
      }
    }
  }
  for (const ref of refTweets.values()) {
    if (ex.has('referenced_tweets.id.author_id')) userIds.add(ref.authorId);
    if (ex.has('referenced_tweets.id.attachments.media_keys'))
      for (const k of ref.mediaKeys) mediaKeys.add(k);
  }
  return assembleIncludes(userIds, mediaKeys, [...refTweets.values()], sel, ctx);
}

/** Builds `includes` for DM events. */
export function dmIncludes(
  dms: readonly SimDm[],
  sel: FieldSelection,
  ctx: RenderContext,
): Record<string, unknown[]> | undefined {
  const userIds = new Set<string>();
  const mediaKeys = new Set<string>();
  for (const dm of dms) {
    if (sel.expansions.has('sender_id')) userIds.add(dm.senderId);
    if (sel.expansions.has('attachments.media_keys')) for (const k of dm.mediaKeys) mediaKeys.add(k);
  }
  return assembleIncludes(userIds, mediaKeys, [], sel, ctx);
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
