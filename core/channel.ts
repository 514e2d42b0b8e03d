/**
 * The channel: one connected X account with its three switches, status, checkpoints and health.
 * Pure types and rules; persistence is behind `ChannelStore` (core/ports.ts).
 */
import type { BudgetHealth } from './cost/budget-floor';

export type ChannelStatus = 'pending_auth' | 'active' | 'paused' | 'needs_reauth' | 'degraded';
export const CHANNEL_STATUSES: readonly ChannelStatus[] = [
  'pending_auth',
  'active',
  'paused',
  'needs_reauth',
  'degraded',
];

export interface XAccount {
  id: string;
  username: string;
  name: string;
  avatarUrl: string | null;
}

export interface ChannelSwitches {
  listenMentions: boolean;
  listenDms: boolean;
  /** Off by default: X's developer rules discourage automated following, and it is Enterprise-only since 2026-04 (X-API.md §0). */
  autoFollow: boolean;
}

export interface ChannelOptions {
  /** Deliver mentions/DMs created up to this many hours before sign-in (0 = only what comes after). */
  backfillHours: number;
  /** Deliver pure reposts of posts that mention the account (default false: they are not new mentions). */
  includeReposts: boolean;
  /** Allow outbound `post` commands (plain posts not answering anything). */
  allowPosts: boolean;
}

/** Inbound checkpoints (owned by the poller). Moved only after the messages before them are on the inbound queue. */
export interface ChannelCheckpoints {
  /** Newest mention id delivered; the next poll asks `since_id` = this. */
  mentionsSinceId: string | null;
  /** Newest DM event delivered (id + time); DM polls page down to it. */
  dmEventId: string | null;
  dmCreatedAt: string | null;
  /**
   * A mention scan stopped early (page bound): items newer than `untilId` up to `newestId` are
   * delivered, those between `mentionsSinceId` and `untilId` not yet. Absent when there is none.
   */
  mentionsBacklog?: { newestId: string; untilId: string } | null;
  /** Same for DM events: (`dm*` checkpoint, `until`) is still to deliver, [`until`, `newest`] is delivered. */
  dmBacklog?: {
    newestId: string;
    newestCreatedAt: string;
    untilId: string;
    untilCreatedAt: string;
  } | null;
  /**
   * Every DM created before this time is on the inbound queue: proven by real time (the webhook's
   * replays, core/realtime/proof.ts) or by a DM poll that read down to its checkpoint. DM polls read
   * only above it. Absent: not known.
   */
  dmCoveredTo?: string | null;
  /**
   * The oldest DM with media the webhook left to the poller (its created time): the next DM poll reads
   * from here whatever `dmCoveredTo` says, and clears it after a complete read.
   */
  dmHold?: string | null;
}

export interface RateWindow {
  limit: number;
  remaining: number;
  /** ISO time the window resets. */
  resetAt: string;
}

export interface LastError {
  code: string;
  kind: string;
  message: string;
  at: string;
}

/** Health fields, readable by the admin API and emitted as metrics. */
export interface ChannelHealth {
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  nextPollAt: string | null;
  lastError: LastError | null;
  /** Time of the last poll that delivered something (the alerts' "no inbound for N hours"; absent before #20). */
  lastDeliveredAt?: string;
  /** Time of the last command the sender got X to accept (clears the alerts' `credits_depleted`; absent before #20). */
  lastSentAt?: string;
  /** Per-endpoint rate-limit windows last seen in X's headers, keyed like `GET /2/users/:id/mentions`. */
  rateLimits: Record<string, RateWindow>;
  /** Per-endpoint "do not call before" after a 429 or a back-off. */
  notBefore: Record<string, string>;
  /** Why a feature is off although the admin switched it on (e.g. the X plan does not include DMs). */
  disabled: { mentions?: string; dms?: string; autoFollow?: string };
  counters: {
    mentionsDelivered: number;
    dmsDelivered: number;
    followed: number;
    sent: number;
    failed: number;
    /** DM attachments stored in the media bucket, and delivered unavailable (absent until the first). */
    attachmentsStored?: number;
    attachmentsUnavailable?: number;
  };
  /** The monthly X budget's state as the last poll that checked it saw it (core/cost/budget-floor.ts). */
  budget?: BudgetHealth | null;
}

export interface Channel extends ChannelSwitches {
  id: string;
  name: string | null;
  status: ChannelStatus;
  /** Plain-words reason for `needs_reauth` / `degraded`. */
  statusReason: string | null;
  account: XAccount | null;
  /** OAuth scopes granted at the last sign-in. */
  scopes: string[];
  options: ChannelOptions;
  createdAt: string;
  updatedAt: string;
  /** Time of the first successful sign-in: where delivery starts (minus backfill). */
  connectedAt: string | null;
  checkpoints: ChannelCheckpoints;
  health: ChannelHealth;
  /** Optimistic-concurrency version; every admin/state change is a conditional write on it. */
  version: number;
  /**
   * The channel's X Activity API subscriptions as the last sync left them (core/realtime/subscriptions.ts).
   * Written apart from `version` (like the poller's health), so a sync never conflicts with an admin edit.
   */
  realtime?: ChannelRealtime;
  /** Time of the newest event the webhook delivered for this channel (written at most once a minute). */
  realtimeLastEventAt?: string | null;
  /** Set while replay/reconciliation fills a gap the connector knows of: the gap's start (ISO). */
  realtimeCatchingUpSince?: string | null;
  /** XChat (encrypted) messages the webhook delivered as `encrypted` DMs (health counts them). */
  realtimeEncryptedDms?: number;
}

/** Why real time is off (or partly off) for a channel. */
export type RealtimeOffCode =
  | 'not_connected'
  | 'paused'
  | 'needs_reauth'
  | 'switched_off'
  | 'missing_scope'
  | 'plan_without_xaa'
  | 'not_configured'
  | 'webhook_missing'
  | 'subscription_limit'
  | 'x_error'
  /** Signed in before real time existed, or a sync never ran: the next reconciliation subscribes. */
  | 'not_synced';

/** One X Activity API subscription a channel holds. */
export interface HeldSubscription {
  id: string;
  eventType: string;
  /**
   * Held at X at least since (created, or first seen in X's list); absent in older records until
   * reconciliation fills it (core/realtime/proof.ts).
   */
  since?: string;
}

/** What a channel holds at X for real time, and whether its streams arrive by webhook. */
export interface ChannelRealtime {
  /** `on`: every stream the channel listens to arrives by webhook; `off`: some or all only by polling. */
  state: 'on' | 'off';
  /** Machine-readable reason when `off`. */
  reasonCode: RealtimeOffCode | null;
  /** The reason in words, shown in the console and health. */
  reason: string | null;
  /** Mentions arrive by webhook (`post.mention.create` and `post.reply.create` held). */
  mentions: boolean;
  /** DMs arrive by webhook (`dm.received` held; `chat.received` too when X accepted it). */
  dms: boolean;
  subscriptions: HeldSubscription[];
  /** When the last sync or reconciliation looked. */
  checkedAt: string;
}

export const emptyHealth = (): ChannelHealth => ({
  lastPollAt: null,
  lastSuccessAt: null,
  nextPollAt: null,
  lastError: null,
  rateLimits: {},
  notBefore: {},
  disabled: {},
  counters: { mentionsDelivered: 0, dmsDelivered: 0, followed: 0, sent: 0, failed: 0 },
});

export const DEFAULT_OPTIONS: ChannelOptions = { backfillHours: 0, includeReposts: false, allowPosts: true };

/** Whether the dispatcher should schedule polls for this channel. */
export function isPollable(
  c: Pick<Channel, 'status' | 'listenMentions' | 'listenDms' | 'autoFollow'>,
): boolean {
  return (c.status === 'active' || c.status === 'degraded') && (c.listenMentions || c.listenDms);
}

/**
 * The OAuth scopes a channel's switches need (X-API.md §1 "Scopes"):
 * - `tweet.read users.read`: every user-context call, incl. `users/me` and mentions;
 * - `tweet.write`: replies and posts (outbound is always possible);
 * - `dm.read`: only to listen to DMs; `dm.write`: to answer DMs (outbound DMs are always possible);
 * - `media.write`: outbound `mediaUrls` (media upload v2, X-API.md §9; outbound media is always possible);
 * - `follows.write`: only when auto-follow is on;
 * - `offline.access`: a refresh token, so the connection survives the 2-hour access token.
 */
export function scopesFor(s: ChannelSwitches): string[] {
  const scopes = ['tweet.read', 'users.read', 'tweet.write', 'dm.write', 'media.write'];
  if (s.listenDms) scopes.push('dm.read');
  if (s.autoFollow) scopes.push('follows.write');
  scopes.push('offline.access');
  return scopes;
}
