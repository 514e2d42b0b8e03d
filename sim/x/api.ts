/**
 * The X API v2 endpoints the connector uses, with X's query rules, JSON shapes and refusals
 * (X-API.md §2, §5, §6). Authentication, rate limits, billing and faults are applied by the server
 * around these handlers; here a request arrives already authenticated as `userId`.
 */
import twitterText from 'twitter-text';
import {
  forbidden,
  clientForbidden,
  invalidRequest,
  json,
  notFoundError,
  rawJson,
  type SimResponse,
} from './http-util';
import { DM_MEDIA_ENDPOINT, SELF_SERVE, type EndpointKey, type Tier } from './limits';
import {
  DM_EVENT_FIELDS,
  DM_EXPANSIONS,
  MEDIA_FIELDS,
  TWEET_EXPANSIONS,
  TWEET_FIELDS,
  USER_EXPANSIONS,
  USER_FIELDS,
  dmIncludes,
  receivesDmFrom,
  renderDm,
  appendTweetIncludes,
  JsonBytes,
  renderUser,
  tweetJsonRenderer,
  type FieldSelection,
  type RenderContext,
} from './render';
import { downloadDmMedia } from './dm-media';
import type { MediaApi } from './media';
import { compareIds, type SimStore } from './store';

/** An authenticated API call as the handlers see it. */
export interface ApiCall {
  endpoint: EndpointKey;
  params: Record<string, string>;
  query: URLSearchParams;
  body: string;
  userId: string;
  tier: Tier;
  now: number;
  store: SimStore;
  origin: string;
  /** Uploaded media, for `media.media_ids` and DM `attachments`. */
  media: MediaApi;
}

/** Thrown inside a handler to answer with an X error. */
class Refusal extends Error {
  constructor(readonly response: SimResponse) {
    super('refused');
  }
}

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;
/** Only this many most recent mentions are reachable (X-API.md §2). */
export const MENTIONS_REACHABLE = 800;
/** X serves the 3,200 most recent posts of a user timeline. */
const USER_TWEETS_REACHABLE = 3200;

function checkParams(query: URLSearchParams, allowed: readonly string[]) {
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      throw new Refusal(
        invalidRequest(
          key,
          query.get(key),
          `The query parameter [${key}] is not one of [${allowed.join(',')}]`,
        ),
      );
    }
  }
}

function listParam(query: URLSearchParams, name: string, allowed: readonly string[]): Set<string> {
  const raw = query.get(name);
  const out = new Set<string>();
  if (raw === null) return out;
  for (const value of raw.split(',')) {
    if (!allowed.includes(value)) {
      throw new Refusal(
        invalidRequest(
          name,
          value,
          `The \`${name}\` query parameter value [${value}] is not one of [${allowed.join(',')}]`,
        ),
      );
    }
    out.add(value);
  }
  return out;
}

function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new Refusal(
      invalidRequest(
        name,
        raw,
        `The \`${name}\` query parameter value [${raw}] is not between ${min} and ${max}`,
      ),
    );
  }
  return n;
}

function idParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^[0-9]{1,19}$/.test(raw)) {
    throw new Refusal(
      invalidRequest(
        name,
        raw,
        `The \`${name}\` query parameter value [${raw}] does not match ^[0-9]{1,19}$`,
      ),
    );
  }
  return raw;
}

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(ms)) {
    throw new Refusal(
      invalidRequest(
        name,
        raw,
        `The \`${name}\` query parameter value [${raw}] is not a valid RFC3339 date-time`,
      ),
    );
  }
  return ms;
}

// Pagination tokens are opaque on X; ours encode the exclusive upper id bound in base 36.
const encodeToken = (id: string) => `7140${BigInt(id).toString(36)}`;
function decodeToken(query: URLSearchParams): string | undefined {
  const raw = query.get('pagination_token');
  if (raw === null) return undefined;
  if (/^7140[0-9a-z]{1,13}$/.test(raw)) {
    let value = 0n;
    for (const c of raw.slice(4)) value = value * 36n + BigInt(parseInt(c, 36));
    return value.toString();
  }
  throw new Refusal(invalidRequest('pagination_token', raw, `The pagination token [${raw}] is invalid`));
}

function parseSelection(query: URLSearchParams, expansions: readonly string[]): FieldSelection {
  return {
    tweet: listParam(query, 'tweet.fields', TWEET_FIELDS),
    user: listParam(query, 'user.fields', USER_FIELDS),
    media: listParam(query, 'media.fields', MEDIA_FIELDS),
    dm: listParam(query, 'dm_event.fields', DM_EVENT_FIELDS),
    expansions: listParam(query, 'expansions', expansions),
  };
}

// Clients repeat the same field lists on every call: valid selections are parsed once (refusals are
// never cached, so a bad list is still answered with its 400). The sets are shared: never mutate them.
const selections = new Map<readonly string[], Map<string, FieldSelection>>();
const MAX_SELECTIONS = 256;

function selection(query: URLSearchParams, expansions: readonly string[]): FieldSelection {
  let byQuery = selections.get(expansions);
  if (!byQuery) {
    byQuery = new Map();
    selections.set(expansions, byQuery);
  }
  const key = JSON.stringify([
    query.get('tweet.fields'),
    query.get('user.fields'),
    query.get('media.fields'),
    query.get('dm_event.fields'),
    query.get('expansions'),
  ]);
  let sel = byQuery.get(key);
  if (!sel) {
    sel = parseSelection(query, expansions);
    if (byQuery.size >= MAX_SELECTIONS) byQuery.clear();
    byQuery.set(key, sel);
  }
  return sel;
}

/** First index whose id is greater than `id` (items ascending by id). */
function upperBound(items: readonly { id: string }[], id: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(items[mid].id, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose id is >= `id`. */
function lowerBound(items: readonly { id: string }[], id: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(items[mid].id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface PageOptions<T> {
  sinceId?: string;
  untilId?: string;
  beforeId?: string;
  startTime?: number;
  endTime?: number;
  max: number;
  reachable: number;
  keep?: (item: T) => boolean;
}

/** Newest-first page over an ascending array, using binary search for the id bounds. */
function pageOf<T extends { id: string; createdAt: number }>(items: readonly T[], o: PageOptions<T>) {
  let lowest = Math.max(0, items.length - o.reachable);
  if (o.sinceId) lowest = Math.max(lowest, upperBound(items, o.sinceId));
  let top = items.length;
  if (o.untilId) top = Math.min(top, lowerBound(items, o.untilId));
  if (o.beforeId) top = Math.min(top, lowerBound(items, o.beforeId));
  const page: T[] = [];
  let i = top - 1;
  for (; i >= lowest && page.length < o.max; i--) {
    const item = items[i];
    if (o.endTime !== undefined && item.createdAt > o.endTime) continue;
    if (o.startTime !== undefined && item.createdAt < o.startTime) break;
    if (o.keep && !o.keep(item)) continue;
    page.push(item);
  }
  // More exists if any older item still passes the filters.
  let more = false;
  for (; i >= lowest; i--) {
    const item = items[i];
    if (o.startTime !== undefined && item.createdAt < o.startTime) break;
    if (o.endTime !== undefined && item.createdAt > o.endTime) continue;
    if (o.keep && !o.keep(item)) continue;
    more = true;
    break;
  }
  return { page, more };
}

const ctxOf = (call: ApiCall): RenderContext => ({
  store: call.store,
  origin: call.origin,
  viewerId: call.userId,
});

const TIMELINE_PARAMS = [
  'since_id',
  'until_id',
  'max_results',
  'pagination_token',
  'start_time',
  'end_time',
  'tweet.fields',
  'expansions',
  'user.fields',
  'media.fields',
  'place.fields',
  'poll.fields',
];

function timeline(call: ApiCall, which: 'mentions' | 'tweets'): SimResponse {
  checkParams(call.query, which === 'tweets' ? [...TIMELINE_PARAMS, 'exclude'] : TIMELINE_PARAMS);
  const sel = selection(call.query, TWEET_EXPANSIONS);
  const max = intParam(call.query, 'max_results', 5, 100, 10);
  const sinceId = idParam(call.query, 'since_id');
  const untilId = idParam(call.query, 'until_id');
  const beforeId = decodeToken(call.query);
  // ids take precedence over times (X-API.md §2)
  const startTime = sinceId ? undefined : timeParam(call.query, 'start_time');
  const endTime = untilId ? undefined : timeParam(call.query, 'end_time');
  const exclude = listParam(call.query, 'exclude', ['replies', 'retweets']);
  const owner = call.store.user(call.params.id);
  if (!owner) return json(200, { errors: [notFoundError('user', 'id', call.params.id)] });
  const items = which === 'mentions' ? call.store.mentionsOf(owner.id) : call.store.postsBy(owner.id);
  const { page, more } = pageOf(items, {
    sinceId,
    untilId,
    beforeId,
    startTime,
    endTime,
    max,
    reachable: which === 'mentions' ? MENTIONS_REACHABLE : USER_TWEETS_REACHABLE,
    keep: exclude.has('replies') ? (t) => !t.inReplyToId : undefined,
  });
  const ctx = ctxOf(call);
  const meta: Record<string, unknown> = { result_count: page.length };
  if (page.length) {
    meta.newest_id = page[0].id;
    meta.oldest_id = page[page.length - 1].id;
    if (more) meta.next_token = encodeToken(page[page.length - 1].id);
  }
  // The body is assembled from cached per-post JSON bytes (render.ts): the same bytes
  // JSON.stringify would give for { data, includes, meta }, without re-rendering every post.
  const out = new JsonBytes().text('{');
  const tweetJson = tweetJsonRenderer(sel.tweet, ctx);
  if (page.length) out.text('"data":').list(page.map(tweetJson)).text(',');
  appendTweetIncludes(out, page, sel, ctx, tweetJson);
  out.text('"meta":').text(JSON.stringify(meta)).text('}');
  return rawJson(200, out.toBuffer(), page.length ? [{ kind: 'postRead', ids: page.map((t) => t.id) }] : []);
}

function userLookup(call: ApiCall, userId: string | undefined, notFound: () => unknown): SimResponse {
  checkParams(call.query, ['user.fields', 'expansions', 'tweet.fields']);
  const sel = selection(call.query, USER_EXPANSIONS);
  const user = userId ? call.store.user(userId) : undefined;
  if (!user) return json(200, { errors: [notFound()] });
  return json(200, { data: renderUser(user, sel.user, ctxOf(call)) }, [{ kind: 'userRead', ids: [user.id] }]);
}

function dmEvents(call: ApiCall): SimResponse {
  checkParams(call.query, [
    'max_results',
    'pagination_token',
    'event_types',
    'dm_event.fields',
    'expansions',
    'user.fields',
    'media.fields',
    'tweet.fields',
  ]);
  const sel = selection(call.query, DM_EXPANSIONS);
  const max = intParam(call.query, 'max_results', 1, 100, 100);
  const beforeId = decodeToken(call.query);
  const types = listParam(call.query, 'event_types', [
    'MessageCreate',
    'ParticipantsJoin',
    'ParticipantsLeave',
  ]);
  let items;
  if (call.endpoint === 'GET /2/dm_events') {
    items = call.store.dmsOf(call.userId);
  } else if (call.endpoint === 'GET /2/dm_conversations/with/:participant_id/dm_events') {
    const other = call.params.participant_id;
    if (!call.store.user(other)) {
      return json(200, { errors: [notFoundError('user', 'participant_id', other)] });
    }
    items = call.store.dmsInConversation(conversationOf(call.userId, other));
  } else {
    const id = call.params.dm_conversation_id;
    if (!id.split('-').includes(call.userId)) {
      return json(200, { errors: [notFoundError('dm_conversation', 'dm_conversation_id', id)] });
    }
    items = call.store.dmsInConversation(id);
  }
  // Only MessageCreate events exist in the simulator.
  const { page, more } =
    types.size && !types.has('MessageCreate')
      ? { page: [], more: false }
      : pageOf(items, { beforeId, startTime: call.now - THIRTY_DAYS_MS, max, reachable: Infinity });
  const body: Record<string, unknown> = {};
  if (page.length) body.data = page.map((dm) => renderDm(dm, sel.dm));
  const includes = dmIncludes(page, sel, ctxOf(call));
  if (includes) body.includes = includes;
  const meta: Record<string, unknown> = { result_count: page.length };
  if (more && page.length) meta.next_token = encodeToken(page[page.length - 1].id);
  body.meta = meta;
  return json(200, body, page.length ? [{ kind: 'dmEventRead', ids: page.map((dm) => dm.id) }] : []);
}

function conversationOf(a: string, b: string) {
  return compareIds(a, b) <= 0 ? `${a}-${b}` : `${b}-${a}`;
}

function parseJsonBody(call: ApiCall): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(call.body || 'null');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new Refusal(
    json(400, {
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
      errors: [{ message: 'Request body must be a JSON object' }],
    }),
  );
}

function createPost(call: ApiCall): SimResponse {
  const body = parseJsonBody(call);
  const text = body.text;
  if (text !== undefined && typeof text !== 'string') {
    return invalidRequest('text', text, '$.text: string expected');
  }
  const media = body.media as { media_ids?: unknown } | undefined;
  let mediaIds: unknown[] = [];
  if (media !== undefined) {
    const ids = media?.media_ids;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 4) {
      return invalidRequest('media.media_ids', JSON.stringify(ids), '$.media.media_ids: 1 to 4 ids expected');
    }
    mediaIds = ids;
  }
  if (!text && !mediaIds.length)
    return invalidRequest('text', text, 'Post text is required when no media is attached.');
  const parsed = twitterText.parseTweet(text ?? '');
  if (parsed.weightedLength > 280) {
    return invalidRequest(
      'text',
      (text ?? '').slice(0, 20),
      'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
    );
  }
  const reply = body.reply as { in_reply_to_tweet_id?: unknown } | undefined;
  const replyTo = reply?.in_reply_to_tweet_id;
  if (reply !== undefined && (typeof replyTo !== 'string' || !/^[0-9]{1,19}$/.test(replyTo))) {
    return invalidRequest('reply.in_reply_to_tweet_id', replyTo, '$.reply.in_reply_to_tweet_id: id expected');
  }
  const quoteId = body.quote_tweet_id;
  if (quoteId !== undefined && SELF_SERVE.has(call.tier)) {
    return clientForbidden('Quote posts are available on the Enterprise plan only.', 'Enterprise');
  }
  if (quoteId !== undefined && (typeof quoteId !== 'string' || !call.store.tweet(quoteId))) {
    return invalidRequest('quote_tweet_id', quoteId, 'The quoted post does not exist.');
  }
  if (typeof replyTo === 'string') {
    const target = call.store.tweet(replyTo);
    if (!target) return forbidden('You attempted to reply to a Tweet that is deleted or not visible to you.');
    const summoned = target.authorId === call.userId || target.mentionedUserIds.includes(call.userId);
    if (SELF_SERVE.has(call.tier) && !summoned) {
      return forbidden(
        'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
      );
    }
  }
  const trimmed = (text ?? '').trim();
  if (trimmed && call.store.postsBy(call.userId).some((t) => t.text.trim() === trimmed)) {
    return forbidden('You are not allowed to create a Tweet with duplicate content.');
  }
  const attached = mediaIds.length
    ? call.media.attach(call.userId, mediaIds, { kind: 'post', field: 'media.media_ids' }, call.now)
    : { keys: [] };
  if ('refusal' in attached) return attached.refusal;
  const tweet = call.store.createTweet({
    authorId: call.userId,
    text: text ?? '',
    inReplyToId: typeof replyTo === 'string' ? replyTo : null,
    quoteOfId: typeof quoteId === 'string' ? quoteId : null,
    mediaKeys: attached.keys,
    viaApi: true,
  });
  call.media.markUsed(attached.keys, tweet.id);
  const kind = tweet.inReplyToId
    ? 'reply'
    : twitterText.extractUrls(tweet.text).length
      ? 'postWithUrl'
      : 'post';
  return json(201, { data: { id: tweet.id, text: tweet.text, edit_history_tweet_ids: [tweet.id] } }, [
    { kind },
  ]);
}

function sendDm(call: ApiCall): SimResponse {
  const body = parseJsonBody(call);
  const text = body.text;
  const attachments = body.attachments;
  if (text !== undefined && typeof text !== 'string')
    return invalidRequest('text', text, '$.text: string expected');
  let mediaIds: unknown[] = [];
  if (attachments !== undefined) {
    // X: exactly one attachment per DM, `[{ media_id }]` (X-API.md §9)
    const list = Array.isArray(attachments) ? (attachments as unknown[]) : null;
    const first = list?.[0] as { media_id?: unknown } | undefined;
    if (
      !list ||
      list.length !== 1 ||
      !first ||
      typeof first !== 'object' ||
      Object.keys(first).join() !== 'media_id'
    ) {
      return invalidRequest(
        'attachments',
        JSON.stringify(attachments),
        '$.attachments: exactly one { media_id } expected',
      );
    }
    mediaIds = [first.media_id];
  }
  if (!text && !mediaIds.length)
    return invalidRequest('text', text, 'A message must have text or one attachment.');
  if (text && text.length > 10_000)
    return invalidRequest('text', text.slice(0, 20), 'Message text is too long.');
  let recipientId: string;
  if (call.endpoint === 'POST /2/dm_conversations/with/:participant_id/messages') {
    recipientId = call.params.participant_id;
  } else {
    const parts = call.params.dm_conversation_id.split('-');
    if (parts.length !== 2 || !parts.includes(call.userId)) {
      return json(404, {
        title: 'Not Found Error',
        detail: `Could not find DM conversation with dm_conversation_id: [${call.params.dm_conversation_id}].`,
        type: 'https://api.x.com/2/problems/resource-not-found',
      });
    }
    recipientId = parts[0] === call.userId ? parts[1] : parts[0];
  }
  const recipient = call.store.user(recipientId);
  if (!recipient) {
    return invalidRequest('participant_id', recipientId, `Could not find user with id: [${recipientId}].`);
  }
  if (recipient.id === call.userId)
    return invalidRequest('participant_id', recipientId, 'You cannot DM yourself.');
  if (recipient.suspended || !receivesDmFrom(ctxOf(call), recipient, call.userId)) {
    return forbidden('You cannot send messages to this user.');
  }
  const attached = mediaIds.length
    ? call.media.attach(call.userId, mediaIds, { kind: 'dm', field: 'attachments.media_id' }, call.now)
    : { keys: [] };
  if ('refusal' in attached) return attached.refusal;
  const dm = call.store.sendDm({
    senderId: call.userId,
    recipientId,
    text: text ?? '',
    mediaKeys: attached.keys,
    viaApi: true,
  });
  call.media.markUsed(attached.keys, dm.id);
  return json(201, { data: { dm_conversation_id: dm.conversationId, dm_event_id: dm.id } }, [{ kind: 'dm' }]);
}

function follow(call: ApiCall): SimResponse {
  if (call.params.id !== call.userId) {
    return forbidden('You are not permitted to perform this action on behalf of another user.');
  }
  const body = parseJsonBody(call);
  const target = body.target_user_id;
  if (typeof target !== 'string' || !/^[0-9]{1,19}$/.test(target)) {
    return invalidRequest('target_user_id', target, '$.target_user_id: id expected');
  }
  if (target === call.userId) return invalidRequest('target_user_id', target, 'You cannot follow yourself.');
  if (!call.store.user(target)) {
    return invalidRequest('target_user_id', target, `Could not find user with id: [${target}].`);
  }
  call.store.follow(call.userId, target);
  return json(200, { data: { following: true, pending_follow: false } }, [{ kind: 'follow' }]);
}

/** Runs one API endpoint. */
export function handleApi(call: ApiCall): SimResponse {
  try {
    switch (call.endpoint) {
      case 'GET /2/users/me':
        return userLookup(call, call.userId, () => notFoundError('user', 'id', call.userId));
      case 'GET /2/users/:id':
        return userLookup(call, call.params.id, () => notFoundError('user', 'id', call.params.id));
      case 'GET /2/users/by/username/:username': {
        const user = call.store.userByName(call.params.username);
        return userLookup(call, user?.id, () => ({
          ...notFoundError('user', 'username', call.params.username),
          detail: `Could not find user with username: [${call.params.username}].`,
        }));
      }
      case 'GET /2/users/:id/mentions':
        return timeline(call, 'mentions');
      case 'GET /2/users/:id/tweets':
        return timeline(call, 'tweets');
      case 'GET /2/dm_events':
      case 'GET /2/dm_conversations/with/:participant_id/dm_events':
      case 'GET /2/dm_conversations/:dm_conversation_id/dm_events':
        return dmEvents(call);
      case 'POST /2/tweets':
        return createPost(call);
      case 'POST /2/dm_conversations/with/:participant_id/messages':
      case 'POST /2/dm_conversations/:dm_conversation_id/messages':
        return sendDm(call);
      case 'POST /2/users/:id/following':
        return follow(call);
      case DM_MEDIA_ENDPOINT:
        return downloadDmMedia(call.store, call.userId, call.params);
      default:
        // XAA and webhook endpoints are app-level: the server routes them to xaa.ts.
        throw new Error(`no user-endpoint handler for ${call.endpoint}`);
    }
  } catch (error) {
    if (error instanceof Refusal) return error.response;
    throw error;
  }
}

/** Whether the endpoint reads posts (for the monthly Post-read cap). */
export const READS_POSTS: ReadonlySet<EndpointKey> = new Set<EndpointKey>([
  'GET /2/users/:id/mentions',
  'GET /2/users/:id/tweets',
]);
