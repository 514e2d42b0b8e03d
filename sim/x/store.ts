/**
 * The simulated X's state: users, apps, OAuth grants and tokens, posts, DMs, follows and counters.
 * The serialisable part (`SimData`) is what `dataFile` persists; the indexes (mentions per user as
 * arrays sorted by id, posts by id, DMs per user) are rebuilt from it so reads never scan.
 */
import twitterText from 'twitter-text';
import type { Tier } from './limits';

/** How a user lets others DM them (X's "Allow message requests from" setting). */
export type DmAcceptance = 'everyone' | 'following' | 'none';

/** A simulated account. */
export interface SimUser {
  id: string;
  username: string;
  name: string;
  createdAt: number;
  suspended: boolean;
  dmAcceptance: DmAcceptance;
  description: string;
}

/**
 * A registered X app. `clientId`/`clientSecret` are its OAuth 2.0 client (`clientSecret` null = public
 * client); `apiKey`/`apiKeySecret` its OAuth 1.0a consumer key and secret ("API Key and Secret" in the
 * portal): they buy the app-only bearer token and key the webhook CRC and signatures (X-API.md §7).
 */
export interface SimApp {
  clientId: string;
  clientSecret: string | null;
  name: string;
  redirectUris: string[];
  apiKey?: string | null;
  apiKeySecret?: string | null;
  /** X's numeric app id (the `app_id` of `oauth.revoke` events); assigned at registration. */
  appId?: string;
  /** The X user who owns the app: its reads of its own timelines are Owned Reads ($0.001, X-API.md §4). */
  ownerUserId?: string | null;
}

/** A webhook registered through `POST /2/webhooks` (X-API.md §7). */
export interface SimWebhook {
  id: string;
  /** The app (OAuth 2.0 client id) that registered it. */
  clientId: string;
  url: string;
  valid: boolean;
  createdAt: number;
  /** Last CRC answered correctly; a webhook without one for 28 h goes invalid. */
  lastCrcOkAt: number | null;
}

/** An X Activity API subscription (`POST /2/activity/subscriptions`, X-API.md §9). */
export interface SimSubscription {
  id: string;
  clientId: string;
  eventType: string;
  /** `filter.user_id`; null for `oauth.revoke` without a filter. */
  userId: string | null;
  tag: string | null;
  webhookId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** An encrypted XChat message (`POST /_sim/chats`); the text never leaves the simulator in clear. */
export interface SimChat {
  /** X's chat event ids are UUIDs (XAA `chat.received` payload). */
  id: string;
  senderId: string;
  recipientId: string;
  conversationId: string;
  text: string;
  createdAt: number;
  /** The opaque crypto material of the payload, fixed at creation so a replay is byte-identical. */
  crypto: {
    conversationToken: string;
    conversationKeyVersion: string;
    encodedEvent: string;
    conversationKeyChangeEvent: string;
    publicKeyVersion: string;
    signature: string;
    signingPublicKey: string;
  };
}

/** One XAA event X generated for a webhook (delivered, dropped or not attempted): what replay re-sends. */
export interface SimXaaEvent {
  uuid: string;
  webhookId: string;
  subscriptionId: string;
  eventType: string;
  at: number;
  /** The object the event is about; the payload is rendered from it (deterministically) on each send. */
  ref:
    | { kind: 'tweet'; id: string }
    | { kind: 'dm'; id: string }
    | { kind: 'chat'; id: string }
    | { kind: 'revoke'; userId: string; at: number };
}

/** `PUT /_sim/delivery`: how the simulator delivers webhook events. */
export interface DeliverySettings {
  dropRate: number;
  duplicateRate: number;
  delayMs: number;
}

/** One post. `text` is the full text; X's 280-char truncation happens when rendered. */
export interface SimTweet {
  id: string;
  authorId: string;
  text: string;
  createdAt: number;
  conversationId: string;
  inReplyToId: string | null;
  inReplyToUserId: string | null;
  quoteOfId: string | null;
  mediaKeys: string[];
  /** Users this post mentions (explicit @username, or a reply/quote of their post). */
  mentionedUserIds: string[];
  viaApi: boolean;
}

/** One DM event (MessageCreate only; the simulator has no group conversations). */
export interface SimDm {
  id: string;
  senderId: string;
  recipientId: string;
  conversationId: string;
  text: string;
  createdAt: number;
  mediaKeys: string[];
  viaApi: boolean;
}

/**
 * One uploaded media object (media upload v2, ./media.ts). The bytes are not kept: `sha256` is taken at
 * finalize. Usable once (`usedBy`: the post or DM id), by its owner, before `expiresAt`.
 */
export interface SimMedia {
  id: string;
  /** `3_<id>` photo, `7_<id>` video, `16_<id>` animated GIF (X's prefixes). */
  key: string;
  ownerId: string;
  category: 'tweet_image' | 'tweet_gif' | 'tweet_video' | 'dm_image' | 'dm_gif' | 'dm_video';
  mediaType: string;
  type: 'photo' | 'video' | 'animated_gif';
  totalBytes: number;
  /** Bytes received, once finalized. */
  size: number;
  /** Hex SHA-256 of the bytes, once finalized. */
  sha256: string | null;
  createdAt: number;
  expiresAt: number;
  finalizedAt: number | null;
  /** When processing ends (images: at finalize). */
  readyAt: number | null;
  usedBy: string | null;
}

/** An authorization (user × app) from which access and refresh tokens descend. */
export interface SimGrant {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
  createdAt: number;
}

/** A live or dead access token. */
export interface SimAccessToken {
  grantId: string;
  expiresAt: number;
  revoked: boolean;
}

/** A refresh token; single use: `spent` once exchanged. */
export interface SimRefreshToken {
  grantId: string;
  spent: boolean;
}

/** A pending authorization code (30 s, single use). */
export interface SimCode {
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  expiresAt: number;
  used: boolean;
}

/** Everything that survives a restart. */
export interface SimData {
  version: 1;
  lastId: string;
  tier: Tier;
  creditsUsd: number | null;
  monthlyReadCapOverride: number | null;
  users: SimUser[];
  apps: SimApp[];
  grants: SimGrant[];
  accessTokens: Record<string, SimAccessToken>;
  refreshTokens: Record<string, SimRefreshToken>;
  codes: Record<string, SimCode>;
  tweets: SimTweet[];
  dms: SimDm[];
  follows: Record<string, string[]>;
  requests: Record<string, number>;
  billing: BillingData;
  /** App-only bearer tokens (`POST /oauth2/token`, client_credentials) → the app's client id. */
  appTokens: Record<string, string>;
  webhooks: SimWebhook[];
  subscriptions: SimSubscription[];
  chats: SimChat[];
  /** XAA events of the last 24 h (+ margin), oldest first: the replay window. */
  xaaEvents: SimXaaEvent[];
  delivery: DeliverySettings;
  /** Uploaded media (./media.ts), oldest first. */
  media: SimMedia[];
}

/** Billing meter state (X-API.md §4). */
export interface BillingData {
  /** `ownedPosts`: post reads billed as Owned Reads (also counted in `monthPostReads`). */
  reads: { posts: number; ownedPosts: number; users: number; dmEvents: number };
  writes: { posts: number; postsWithUrl: number; replies: number; dms: number; follows: number };
  costUsd: number;
  /** `<kind>:<id>:<UTC day>` keys already billed (once per resource per UTC day). */
  billedToday: string[];
  billedDay: string;
  /** Post reads this UTC month, for the monthly cap. */
  monthPostReads: number;
  month: string;
  /** XAA events billed, per event type (X-API.md §9 "Price"). */
  events: Record<string, number>;
}

/** What {@link SimStore.onCreated} reports. */
export type CreatedItem =
  { kind: 'tweet'; tweet: SimTweet } | { kind: 'dm'; dm: SimDm } | { kind: 'chat'; chat: SimChat };

/** Fresh, empty state. */
export function emptyData(tier: Tier = 'pay-per-use'): SimData {
  return {
    version: 1,
    lastId: '0',
    tier,
    creditsUsd: null,
    monthlyReadCapOverride: null,
    users: [],
    apps: [],
    grants: [],
    accessTokens: {},
    refreshTokens: {},
    codes: {},
    tweets: [],
    dms: [],
    follows: {},
    requests: {},
    billing: emptyBilling(),
    appTokens: {},
    webhooks: [],
    subscriptions: [],
    chats: [],
    xaaEvents: [],
    delivery: { ...DEFAULT_DELIVERY },
    media: [],
  };
}

/** X's deliveries arrive with "sub-second latency" (XAA introduction): 200 ms unless told otherwise. */
export const DEFAULT_DELIVERY: DeliverySettings = { dropRate: 0, duplicateRate: 0, delayMs: 200 };

/** Fills what a data file written before a field existed lacks (older files stay loadable). */
export function upgradeData(data: SimData): SimData {
  const fresh = emptyData(data.tier);
  for (const key of Object.keys(fresh) as (keyof SimData)[]) {
    if (data[key] === undefined) (data as unknown as Record<string, unknown>)[key] = fresh[key];
  }
  data.billing.events ??= {};
  data.billing.reads.ownedPosts ??= 0;
  return data;
}

/** A zeroed billing meter. */
export function emptyBilling(): BillingData {
  return {
    reads: { posts: 0, ownedPosts: 0, users: 0, dmEvents: 0 },
    writes: { posts: 0, postsWithUrl: 0, replies: 0, dms: 0, follows: 0 },
    costUsd: 0,
    billedToday: [],
    billedDay: '',
    monthPostReads: 0,
    month: '',
    events: {},
  };
}

/** Numeric comparison of decimal id strings (snowflakes exceed 2^53). */
export function compareIds(x: string, y: string): number {
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** X's 1:1 conversation id: `<smaller id>-<larger id>`. */
export function conversationIdOf(a: string, b: string): string {
  return compareIds(a, b) <= 0 ? `${a}-${b}` : `${b}-${a}`;
}

// X's snowflake epoch (2010-11-04T01:42:54.657Z): ids are (ms since epoch) << 22 | sequence.
const SNOWFLAKE_EPOCH = 1288834974657n;
const USERNAME = /^[A-Za-z0-9_]{1,15}$/;

/** Thrown for a domain rule the caller broke; `field` names the input at fault. */
export class SimInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly status = 400,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SimInputError';
  }
}

/** State plus indexes plus the domain operations every surface (API, control, crowd) shares. */
export class SimStore {
  data: SimData;
  private usersById = new Map<string, SimUser>();
  private usersByName = new Map<string, SimUser>();
  private tweetsById = new Map<string, SimTweet>();
  /** Per user: posts mentioning them, ascending by id (ids only grow, so appends keep the order). */
  private mentionIndex = new Map<string, SimTweet[]>();
  private authoredIndex = new Map<string, SimTweet[]>();
  private dmIndex = new Map<string, SimDm[]>();
  private conversationIndex = new Map<string, SimDm[]>();
  private dmsById = new Map<string, SimDm>();
  private mediaKeys = new Set<string>();
  private uploadsById = new Map<string, SimMedia>();
  private uploadsByKey = new Map<string, SimMedia>();
  /** Called after every state change (persistence hooks in here). */
  onChange: () => void = () => {};
  /** Called after a post, DM or chat is created (the XAA deliveries hook in here). */
  onCreated: (created: CreatedItem) => void = () => {};
  /**
   * Bumped whenever a user appears (or all are replaced): a rendered post's mention entities carry
   * the ids of the users they name, so cached renderings older than this are stale.
   */
  userEpoch = 0;

  constructor(
    private readonly now: () => number,
    data?: SimData,
  ) {
    this.data = data ? upgradeData(data) : emptyData();
    this.reindex();
  }

  /** Rebuilds every index from `data` (after load or reset). */
  reindex(): void {
    this.userEpoch++;
    this.usersById.clear();
    this.usersByName.clear();
    this.tweetsById.clear();
    this.mentionIndex.clear();
    this.authoredIndex.clear();
    this.dmIndex.clear();
    this.conversationIndex.clear();
    this.dmsById.clear();
    this.mediaKeys.clear();
    this.uploadsById.clear();
    this.uploadsByKey.clear();
    for (const m of this.data.media) this.indexMedia(m);
    for (const user of this.data.users) this.indexUser(user);
    for (const tweet of this.data.tweets) this.indexTweet(tweet);
    for (const dm of this.data.dms) this.indexDm(dm);
  }

  private indexUser(user: SimUser) {
    this.userEpoch++;
    this.usersById.set(user.id, user);
    this.usersByName.set(user.username.toLowerCase(), user);
  }

  private indexTweet(tweet: SimTweet) {
    this.tweetsById.set(tweet.id, tweet);
    push(this.authoredIndex, tweet.authorId, tweet);
    for (const id of tweet.mentionedUserIds) push(this.mentionIndex, id, tweet);
    for (const key of tweet.mediaKeys) this.mediaKeys.add(key);
  }

  private indexDm(dm: SimDm) {
    this.dmsById.set(dm.id, dm);
    push(this.dmIndex, dm.senderId, dm);
    if (dm.recipientId !== dm.senderId) push(this.dmIndex, dm.recipientId, dm);
    push(this.conversationIndex, dm.conversationId, dm);
    for (const key of dm.mediaKeys) this.mediaKeys.add(key);
  }

  private indexMedia(media: SimMedia) {
    this.uploadsById.set(media.id, media);
    this.uploadsByKey.set(media.key, media);
  }

  /** An uploaded media object by its media id. */
  media(id: string): SimMedia | undefined {
    return this.uploadsById.get(id);
  }

  /** An uploaded media object by its media key (undefined for media made by `mediaCount`). */
  mediaByKey(key: string): SimMedia | undefined {
    return this.uploadsByKey.get(key);
  }

  /** Records a new upload session. */
  addMedia(media: SimMedia): void {
    this.data.media.push(media);
    this.indexMedia(media);
    this.onChange();
  }

  /** Changes an upload's state (finalize, processing, use). */
  updateMedia(media: SimMedia, change: Partial<Omit<SimMedia, 'id' | 'key'>>): void {
    Object.assign(media, change);
    this.onChange();
  }

  /** A new snowflake-like id from the clock, strictly greater than every id before it. */
  nextId(): string {
    const fromClock = (BigInt(Math.max(0, Math.floor(this.now()))) - SNOWFLAKE_EPOCH) << 22n;
    const last = BigInt(this.data.lastId);
    const id = fromClock > last ? fromClock : last + 1n;
    this.data.lastId = id.toString();
    return this.data.lastId;
  }

  user(id: string): SimUser | undefined {
    return this.usersById.get(id);
  }

  userByName(username: string): SimUser | undefined {
    return this.usersByName.get(username.toLowerCase());
  }

  tweet(id: string): SimTweet | undefined {
    return this.tweetsById.get(id);
  }

  hasMedia(key: string): boolean {
    return this.mediaKeys.has(key);
  }

  /** Posts mentioning `userId`, ascending by id. Do not mutate. */
  mentionsOf(userId: string): readonly SimTweet[] {
    return this.mentionIndex.get(userId) ?? [];
  }

  /** Posts by `userId`, ascending by id. Do not mutate. */
  postsBy(userId: string): readonly SimTweet[] {
    return this.authoredIndex.get(userId) ?? [];
  }

  /** DM events `userId` sent or received, ascending by id. */
  dmsOf(userId: string): readonly SimDm[] {
    return this.dmIndex.get(userId) ?? [];
  }

  /** One DM event by id. */
  dm(id: string): SimDm | undefined {
    return this.dmsById.get(id);
  }

  /** DM events of one conversation, ascending by id. */
  dmsInConversation(conversationId: string): readonly SimDm[] {
    return this.conversationIndex.get(conversationId) ?? [];
  }

  follows(userId: string): string[] {
    return this.data.follows[userId] ?? [];
  }

  isFollowing(userId: string, targetId: string): boolean {
    return this.follows(userId).includes(targetId);
  }

  /** Creates an account. Usernames follow X's rule (1–15 of A–Z, 0–9, _) and are unique ignoring case. */
  createUser(input: { username: string; name: string }): SimUser {
    if (!USERNAME.test(input.username)) {
      throw new SimInputError('username', 'must be 1-15 characters of letters, digits and _');
    }
    if (this.userByName(input.username)) {
      throw new SimInputError('username', `@${input.username} is taken`, 409);
    }
    const name = input.name.trim();
    if (!name || name.length > 50) throw new SimInputError('name', 'must be 1-50 characters');
    const user: SimUser = {
      id: this.nextId(),
      username: input.username,
      name,
      createdAt: this.now(),
      suspended: false,
      dmAcceptance: 'everyone',
      description: '',
    };
    this.data.users.push(user);
    this.indexUser(user);
    this.onChange();
    return user;
  }

  private requireUser(id: string, field: string): SimUser {
    const user = this.user(id);
    if (!user) throw new SimInputError(field, `no user with id ${id}`, 404);
    return user;
  }

  /** Creates a post, computing thread root, reply target and who it mentions. */
  createTweet(input: {
    authorId: string;
    text: string;
    inReplyToId?: string | null;
    quoteOfId?: string | null;
    mediaCount?: number;
    /** What `mediaCount` makes: X's key prefixes `3_` photo, `7_` video, `16_` animated GIF. */
    mediaType?: 'photo' | 'video' | 'animated_gif';
    /** Keys of uploaded media attached through the API (instead of `mediaCount`). */
    mediaKeys?: string[];
    viaApi?: boolean;
  }): SimTweet {
    const author = this.requireUser(input.authorId, 'authorId');
    const parent = input.inReplyToId ? this.tweet(input.inReplyToId) : undefined;
    if (input.inReplyToId && !parent) throw new SimInputError('inReplyToId', 'no such post', 404);
    const quoted = input.quoteOfId ? this.tweet(input.quoteOfId) : undefined;
    if (input.quoteOfId && !quoted) throw new SimInputError('quoteOfId', 'no such post', 404);
    const id = this.nextId();
    const mentioned = new Set<string>();
    for (const name of twitterText.extractMentions(input.text)) {
      const user = this.userByName(name);
      if (user) mentioned.add(user.id);
    }
    if (parent) mentioned.add(parent.authorId);
    if (quoted) mentioned.add(quoted.authorId);
    // Your own post never shows in your own mentions timeline.
    mentioned.delete(author.id);
    const mediaKeys =
      input.mediaKeys ??
      Array.from(
        { length: Math.min(4, input.mediaCount ?? 0) },
        (_, i) =>
          `${input.mediaType === 'video' ? '7' : input.mediaType === 'animated_gif' ? '16' : '3'}_${id}${i}`,
      );
    const tweet: SimTweet = {
      id,
      authorId: author.id,
      text: input.text,
      createdAt: this.now(),
      conversationId: parent ? parent.conversationId : id,
      inReplyToId: parent?.id ?? null,
      inReplyToUserId: parent?.authorId ?? null,
      quoteOfId: quoted?.id ?? null,
      mediaKeys,
      mentionedUserIds: [...mentioned],
      viaApi: input.viaApi ?? false,
    };
    this.data.tweets.push(tweet);
    this.indexTweet(tweet);
    this.onChange();
    this.onCreated({ kind: 'tweet', tweet });
    return tweet;
  }

  /** Sends a 1:1 DM (no acceptance checks: the API layer applies X's rules before calling this). */
  sendDm(input: {
    senderId: string;
    recipientId: string;
    text: string;
    mediaCount?: number;
    /** Key of uploaded media attached through the API (instead of `mediaCount`). */
    mediaKeys?: string[];
    viaApi?: boolean;
  }): SimDm {
    this.requireUser(input.senderId, 'senderId');
    this.requireUser(input.recipientId, 'recipientId');
    if (input.senderId === input.recipientId) throw new SimInputError('recipientId', 'cannot DM yourself');
    const id = this.nextId();
    const dm: SimDm = {
      id,
      senderId: input.senderId,
      recipientId: input.recipientId,
      conversationId: conversationIdOf(input.senderId, input.recipientId),
      text: input.text,
      createdAt: this.now(),
      mediaKeys:
        input.mediaKeys ?? Array.from({ length: Math.min(1, input.mediaCount ?? 0) }, () => `3_${id}`),
      viaApi: input.viaApi ?? false,
    };
    this.data.dms.push(dm);
    this.indexDm(dm);
    this.onChange();
    this.onCreated({ kind: 'dm', dm });
    return dm;
  }

  /** Stores an encrypted XChat message (its crypto material made by the caller). */
  addChat(chat: SimChat): SimChat {
    this.requireUser(chat.senderId, 'senderId');
    this.requireUser(chat.recipientId, 'recipientId');
    if (chat.senderId === chat.recipientId)
      throw new SimInputError('recipientId', 'cannot chat with yourself');
    this.data.chats.push(chat);
    this.onChange();
    this.onCreated({ kind: 'chat', chat });
    return chat;
  }

  /** Makes `userId` follow `targetId` (idempotent). */
  follow(userId: string, targetId: string): void {
    this.requireUser(userId, 'userId');
    this.requireUser(targetId, 'target_user_id');
    const list = (this.data.follows[userId] ??= []);
    if (!list.includes(targetId)) {
      list.push(targetId);
      this.onChange();
    }
  }

  /** Drops all state except the tier (the control API's reset). */
  reset(): void {
    const tier = this.data.tier;
    this.data = emptyData(tier);
    this.reindex();
    this.onChange();
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
