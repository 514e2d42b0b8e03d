/**
 * Every number the simulated X enforces per plan, in one place. Sources are X-API.md §3 (rate
 * limits, monthly caps) and §0 (follow removed from self-serve plans on 2026-04-20); where the docs
 * disagree we take the current rate-limit table and say so next to the number.
 */

/** X API plans the simulator can play. `unlimited` is ours: every endpoint, no windows, no cap. */
export type Tier = 'free' | 'basic' | 'pro' | 'pay-per-use' | 'enterprise' | 'unlimited';

/** All tiers, default first. */
export const TIERS = [
  'pay-per-use',
  'free',
  'basic',
  'pro',
  'enterprise',
  'unlimited',
] as const satisfies readonly Tier[];

/** `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}`: a DM's media bytes, participants only. */
export const DM_MEDIA_ENDPOINT = 'GET /2/dm_conversations/media/:dm_id/:media_id/:resource_id' as const;

/** The endpoint templates the simulator serves (method + X's path template). */
export const ENDPOINTS = [
  'GET /2/users/me',
  'GET /2/users/:id',
  'GET /2/users/by/username/:username',
  'GET /2/users/:id/mentions',
  'GET /2/users/:id/tweets',
  'GET /2/dm_events',
  'GET /2/dm_conversations/with/:participant_id/dm_events',
  'GET /2/dm_conversations/:dm_conversation_id/dm_events',
  'POST /2/tweets',
  'POST /2/dm_conversations/with/:participant_id/messages',
  'POST /2/dm_conversations/:dm_conversation_id/messages',
  'POST /2/users/:id/following',
  // the authenticated DM media download (X-API.md §9 "Inbound")
  DM_MEDIA_ENDPOINT,
  // media upload v2 (X-API.md §9 "Media")
  ...MEDIA_ENDPOINTS(),
  // X Activity API and the v2 Webhooks API (X-API.md §7, §9)
  'POST /2/webhooks',
  'GET /2/webhooks',
  'PUT /2/webhooks/:webhook_id',
  'DELETE /2/webhooks/:webhook_id',
  'POST /2/webhooks/replay',
  'POST /2/activity/subscriptions',
  'GET /2/activity/subscriptions',
  'DELETE /2/activity/subscriptions',
  'PUT /2/activity/subscriptions/:subscription_id',
  'DELETE /2/activity/subscriptions/:subscription_id',
] as const;

/** The media upload v2 endpoints (a function: used in {@link ENDPOINTS} before its own declaration). */
function MEDIA_ENDPOINTS() {
  return [
    'POST /2/media/upload/initialize',
    'POST /2/media/upload/:id/append',
    'POST /2/media/upload/:id/finalize',
    'GET /2/media/upload',
  ] as const;
}

/** One of the media upload endpoints. */
export type MediaEndpointKey = ReturnType<typeof MEDIA_ENDPOINTS>[number];

/**
 * Media upload windows: "media initialize/append/finalize 1,875 / 15 min per user, 180,000 / 24 h per
 * app" (X-API.md §3). STATUS is not in the table [uncertain]: given the same numbers. Uploads are
 * offered on every plan (media upload was never plan-gated) [uncertain for legacy Free].
 */
function MEDIA_LIMITS_ALL_PLANS(): Record<MediaEndpointKey, EndpointAccess> {
  const upload = w(u(1875), a(180_000, H24));
  return Object.fromEntries(MEDIA_ENDPOINTS().map((k) => [k, upload])) as Record<
    MediaEndpointKey,
    EndpointAccess
  >;
}

/** The XAA and webhook endpoints (app-level, outside the per-user endpoint rules). */
export const XAA_ENDPOINTS = [
  'POST /2/webhooks',
  'GET /2/webhooks',
  'PUT /2/webhooks/:webhook_id',
  'DELETE /2/webhooks/:webhook_id',
  'POST /2/webhooks/replay',
  'POST /2/activity/subscriptions',
  'GET /2/activity/subscriptions',
  'DELETE /2/activity/subscriptions',
  'PUT /2/activity/subscriptions/:subscription_id',
  'DELETE /2/activity/subscriptions/:subscription_id',
] as const satisfies readonly string[];

/** One of {@link XAA_ENDPOINTS}. */
export type XaaEndpointKey = (typeof XAA_ENDPOINTS)[number];

/** One of {@link ENDPOINTS}. */
export type EndpointKey = (typeof ENDPOINTS)[number];

/** A counting window. `bucket` lets several endpoints share one counter (X's app-wide DM cap). */
export interface RateWindow {
  scope: 'user' | 'app';
  limit: number;
  windowSeconds: number;
  bucket?: string;
}

/** What a tier allows on one endpoint: windows to count in, or a refusal naming the enrollment needed. */
export type EndpointAccess = { windows: RateWindow[] } | { forbidden: string };

const M15 = 15 * 60;
const H24 = 24 * 60 * 60;
const u = (limit: number, windowSeconds = M15, bucket?: string): RateWindow => ({
  scope: 'user',
  limit,
  windowSeconds,
  bucket,
});
const a = (limit: number, windowSeconds = M15, bucket?: string): RateWindow => ({
  scope: 'app',
  limit,
  windowSeconds,
  bucket,
});
const w = (...windows: RateWindow[]): EndpointAccess => ({ windows });
const ENTERPRISE_ONLY: EndpointAccess = { forbidden: 'Enterprise' };
const NOT_IN_PLAN = (plan: string): EndpointAccess => ({ forbidden: plan });

/**
 * The current table (X-API.md §3 "Rate limits", docs.x.com/x-api/fundamentals/rate-limits): it is
 * what pay-per-use apps get, and our stand-in for Enterprise (whose limits are negotiated).
 */
const CURRENT: Record<EndpointKey, EndpointAccess> = {
  'GET /2/users/me': w(u(75)),
  // users lookup: 900/15 min per user, 300/15 min per app (users lookup page, not in X-API.md's table)
  'GET /2/users/:id': w(u(900), a(300)),
  'GET /2/users/by/username/:username': w(u(900), a(300)),
  'GET /2/users/:id/mentions': w(u(300), a(450)),
  // user posts timeline: 900/15 min per user, 1,500/15 min per app (timelines page)
  'GET /2/users/:id/tweets': w(u(900), a(1500)),
  // "dm_events (each variant) 15/15 min" per user
  'GET /2/dm_events': w(u(15)),
  'GET /2/dm_conversations/with/:participant_id/dm_events': w(u(15)),
  'GET /2/dm_conversations/:dm_conversation_id/dm_events': w(u(15)),
  // [uncertain] the DM media download's window is not in X's table: the dm_events one is assumed
  [DM_MEDIA_ENDPOINT]: w(u(15)),
  // POST DM: 15/15 min and 1,440/24 h per user; 1,440/24 h per app across ALL accounts and both
  // send endpoints (the shared `dm-send` bucket). The migration guide's 200/1,000/15,000 disagree.
  'POST /2/dm_conversations/with/:participant_id/messages': w(
    u(15),
    u(1440, H24, 'dm-send'),
    a(1440, H24, 'dm-send'),
  ),
  'POST /2/dm_conversations/:dm_conversation_id/messages': w(
    u(15),
    u(1440, H24, 'dm-send'),
    a(1440, H24, 'dm-send'),
  ),
  // POST /2/tweets: 100/15 min per user, 10,000/24 h per app
  'POST /2/tweets': w(u(100), a(10_000, H24)),
  // follows: 50/15 min per user where it exists at all
  'POST /2/users/:id/following': w(u(50)),
  ...MEDIA_LIMITS_ALL_PLANS(),
  ...XAA_CURRENT(),
};

/**
 * XAA on the current table: "webhooks / activity subscriptions 450 / 500 per 15 min" per app
 * (X-API.md §3), replay 100 / 15 min (X-API.md §9).
 */
function XAA_CURRENT(): Record<XaaEndpointKey, EndpointAccess> {
  const hooks = w(a(450));
  const subs = w(a(500));
  return {
    'POST /2/webhooks': hooks,
    'GET /2/webhooks': hooks,
    'PUT /2/webhooks/:webhook_id': hooks,
    'DELETE /2/webhooks/:webhook_id': hooks,
    'POST /2/webhooks/replay': w(a(100)),
    'POST /2/activity/subscriptions': subs,
    'GET /2/activity/subscriptions': subs,
    'DELETE /2/activity/subscriptions': subs,
    'PUT /2/activity/subscriptions/:subscription_id': subs,
    'DELETE /2/activity/subscriptions/:subscription_id': subs,
  };
}

/**
 * Legacy plans: XAA prices exist for pay-per-use only and its access on legacy Basic/Pro is
 * undocumented (X-API.md §9), so the simulator refuses it there as X refuses a product outside the plan.
 */
function XAA_REFUSED(): Record<XaaEndpointKey, EndpointAccess> {
  return Object.fromEntries(XAA_ENDPOINTS.map((k) => [k, NOT_IN_PLAN('Pay-per-use')])) as Record<
    XaaEndpointKey,
    EndpointAccess
  >;
}

/** Per tier: the access to each endpoint. */
export const RATE_LIMITS: Record<Tier, Record<EndpointKey, EndpointAccess>> = {
  // PPU = the current table, minus following (Enterprise-only on self-serve since 2026-04-20, X-API.md §0)
  'pay-per-use': { ...CURRENT, 'POST /2/users/:id/following': ENTERPRISE_ONLY },
  enterprise: CURRENT,
  // Legacy Pro (snapshot 2025-12, X-API.md §3 "Legacy tiers")
  pro: {
    ...CURRENT,
    // legacy Pro had 50/15 min; removed from all self-serve plans on 2026-04-20
    'POST /2/users/:id/following': ENTERPRISE_ONLY,
    ...XAA_REFUSED(),
  },
  // Legacy Basic (snapshot 2025-12)
  basic: {
    // [uncertain] Basic users/me: 100/24 h per user (legacy table, not in X-API.md)
    'GET /2/users/me': w(u(100, H24)),
    'GET /2/users/:id': w(u(100, H24), a(500, H24)),
    'GET /2/users/by/username/:username': w(u(100, H24), a(500, H24)),
    'GET /2/users/:id/mentions': w(u(10), a(15)),
    'GET /2/users/:id/tweets': w(u(5), a(10)),
    // dm_events / POST DM: 1/24 h on Basic
    'GET /2/dm_events': w(u(1, H24)),
    'GET /2/dm_conversations/with/:participant_id/dm_events': w(u(1, H24)),
    'GET /2/dm_conversations/:dm_conversation_id/dm_events': w(u(1, H24)),
    [DM_MEDIA_ENDPOINT]: w(u(1, H24)),
    'POST /2/dm_conversations/with/:participant_id/messages': w(u(1, H24, 'dm-send')),
    'POST /2/dm_conversations/:dm_conversation_id/messages': w(u(1, H24, 'dm-send')),
    // POST tweets: 100/24 h per user, 1,667/24 h per app
    'POST /2/tweets': w(u(100, H24), a(1667, H24)),
    // legacy Basic had 5/15 min; removed 2026-04-20
    'POST /2/users/:id/following': ENTERPRISE_ONLY,
    ...MEDIA_LIMITS_ALL_PLANS(),
    ...XAA_REFUSED(),
  },
  // Legacy Free (snapshot 2025-12)
  free: {
    // [uncertain] Free users/me: 25/24 h per user (legacy table)
    'GET /2/users/me': w(u(25, H24)),
    'GET /2/users/:id': w(u(1, H24), a(1, H24)),
    'GET /2/users/by/username/:username': w(u(1, H24), a(1, H24)),
    'GET /2/users/:id/mentions': w(u(1), a(1)),
    'GET /2/users/:id/tweets': w(u(1), a(1)),
    'GET /2/dm_events': NOT_IN_PLAN('Basic'),
    'GET /2/dm_conversations/with/:participant_id/dm_events': NOT_IN_PLAN('Basic'),
    'GET /2/dm_conversations/:dm_conversation_id/dm_events': NOT_IN_PLAN('Basic'),
    [DM_MEDIA_ENDPOINT]: NOT_IN_PLAN('Basic'),
    'POST /2/dm_conversations/with/:participant_id/messages': NOT_IN_PLAN('Basic'),
    'POST /2/dm_conversations/:dm_conversation_id/messages': NOT_IN_PLAN('Basic'),
    // 17/24 h per user and per app
    'POST /2/tweets': w(u(17, H24), a(17, H24)),
    // removed from Free on 2025-08-22, from all self-serve on 2026-04-20
    'POST /2/users/:id/following': ENTERPRISE_ONLY,
    ...MEDIA_LIMITS_ALL_PLANS(),
    ...XAA_REFUSED(),
  },
  unlimited: Object.fromEntries(ENDPOINTS.map((k) => [k, { windows: [] as RateWindow[] }])) as Record<
    EndpointKey,
    EndpointAccess
  >,
};

/** Monthly Post-read caps (X-API.md §3 "Monthly Post-read caps"); null = none. PPU: 3M since 2026-08-13. */
export const MONTHLY_POST_READ_CAP: Record<Tier, number | null> = {
  free: 100,
  basic: 15_000,
  pro: 1_000_000,
  'pay-per-use': 3_000_000,
  enterprise: 50_000_000,
  unlimited: null,
};

/** Tiers that have the X Activity API (deliveries stop on the others). */
export const XAA_TIERS: ReadonlySet<Tier> = new Set<Tier>(['pay-per-use', 'enterprise', 'unlimited']);

/** App-wide XAA subscription caps (XAA introduction "Subscription limits"); null = none. */
export const SUBSCRIPTION_LIMIT: Record<Tier, number | null> = {
  'pay-per-use': 1500,
  enterprise: 75_000,
  unlimited: null,
  free: 0,
  basic: 0,
  pro: 0,
};

/**
 * Webhooks per app. Undocumented for the v2 Webhooks API; the Account Activity table gives
 * pay-per-use 1 webhook (X-API.md §7) [uncertain], so 1 on self-serve.
 */
export const WEBHOOK_LIMIT: Record<Tier, number | null> = {
  'pay-per-use': 1,
  enterprise: 10,
  unlimited: null,
  free: 0,
  basic: 0,
  pro: 0,
};

/**
 * XAA price per delivered event in USD, deduplicated per UTC day (X-API.md §9, docs.x.com pricing
 * "Webhook events"); types not listed are not billed (`dm.sent`, `chat.sent`, `post.delete`, …).
 */
export const EVENT_PRICES_USD: Readonly<Record<string, number>> = {
  'post.create': 0.005,
  'post.mention.create': 0.005,
  'post.reply.create': 0.005,
  'post.quote.create': 0.005,
  'post.repost.create': 0.005,
  'dm.received': 0.01,
  'chat.received': 0.01,
  'follow.follow': 0.01,
  'follow.unfollow': 0.01,
};

/** Self-serve plans: replies only to posts that summoned the account (X-API.md §0, 2026-02-23). */
export const SELF_SERVE: ReadonlySet<Tier> = new Set<Tier>(['free', 'basic', 'pro', 'pay-per-use']);

/** Pay-per-use prices in USD (X-API.md §4). */
export const PRICES_USD = {
  postRead: 0.005,
  /** Owned Reads: the account that owns the app reading its own timeline (X-API.md §4). */
  ownedRead: 0.001,
  userRead: 0.01,
  dmEventRead: 0.01,
  post: 0.015,
  postWithUrl: 0.2,
  reply: 0.01,
  dm: 0.015,
  follow: 0.015,
} as const;

/** Scopes each endpoint needs (X-API.md §1, from the OpenAPI `security` blocks). */
export const REQUIRED_SCOPES: Record<EndpointKey, readonly string[]> = {
  'GET /2/users/me': ['tweet.read', 'users.read'],
  'GET /2/users/:id': ['tweet.read', 'users.read'],
  'GET /2/users/by/username/:username': ['tweet.read', 'users.read'],
  'GET /2/users/:id/mentions': ['tweet.read', 'users.read'],
  'GET /2/users/:id/tweets': ['tweet.read', 'users.read'],
  'GET /2/dm_events': ['dm.read', 'tweet.read', 'users.read'],
  'GET /2/dm_conversations/with/:participant_id/dm_events': ['dm.read', 'tweet.read', 'users.read'],
  'GET /2/dm_conversations/:dm_conversation_id/dm_events': ['dm.read', 'tweet.read', 'users.read'],
  [DM_MEDIA_ENDPOINT]: ['dm.read', 'tweet.read', 'users.read'],
  'POST /2/tweets': ['tweet.write', 'tweet.read', 'users.read'],
  'POST /2/dm_conversations/with/:participant_id/messages': ['dm.write', 'tweet.read', 'users.read'],
  'POST /2/dm_conversations/:dm_conversation_id/messages': ['dm.write', 'tweet.read', 'users.read'],
  'POST /2/users/:id/following': ['follows.write', 'tweet.read', 'users.read'],
  // media upload v2: the OpenAPI's security block names media.write only
  'POST /2/media/upload/initialize': ['media.write'],
  'POST /2/media/upload/:id/append': ['media.write'],
  'POST /2/media/upload/:id/finalize': ['media.write'],
  'GET /2/media/upload': ['media.write'],
  // XAA: scopes depend on the event type and the token kind; checked in xaa.ts.
  ...(Object.fromEntries(XAA_ENDPOINTS.map((k) => [k, []])) as unknown as Record<
    XaaEndpointKey,
    readonly string[]
  >),
};

/** All OAuth 2.0 scopes X knows that the authorize page describes in words. */
export const SCOPE_WORDS: Record<string, string> = {
  'tweet.read': 'Read posts you can see, including from protected accounts',
  'tweet.write': 'Post and repost for you',
  'users.read': 'Read your profile and any account you can see',
  'dm.read': 'Read all your Direct Messages',
  'dm.write': 'Send Direct Messages for you',
  'follows.read': 'See who you follow and who follows you',
  'follows.write': 'Follow and unfollow accounts for you',
  'offline.access': 'Stay connected to your account until you revoke access',
  'like.read': 'See posts you liked',
  'like.write': 'Like and un-like posts for you',
  'media.write': 'Upload media for you',
  'tweet.moderate.write': 'Hide and unhide replies for you',
  'mute.read': 'See accounts you muted',
  'mute.write': 'Mute and unmute accounts for you',
  'block.read': 'See accounts you blocked',
  'block.write': 'Block and unblock accounts for you',
  'bookmark.read': 'See your bookmarks',
  'bookmark.write': 'Add and remove bookmarks for you',
  'list.read': 'See lists you can see',
  'list.write': 'Create and manage lists for you',
  'space.read': 'See Spaces you can see',
};
