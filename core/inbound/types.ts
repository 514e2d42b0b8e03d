/**
 * Inbound ports and the X data shapes the poller reads. Core never imports twitter-api-v2: the X
 * adapter (adapters/x/x-reader.ts) returns these plain shapes, which mirror X's v2 JSON
 * (X-API.md §2) with only the fields we ask for.
 */
import type { InboundMessage } from '../../contracts';
import type { ChannelCheckpoints, RateWindow } from '../channel';

/** A user object from `includes.users` (user.fields `username,name,profile_image_url`). */
export interface XUserData {
  id: string;
  username: string;
  name: string;
  profile_image_url?: string;
}

/** A media object from `includes.media` (media.fields `type,url,preview_image_url,variants`). */
export interface XMediaData {
  media_key: string;
  type: string;
  url?: string;
  preview_image_url?: string;
  variants?: Array<{ url: string; content_type?: string; bit_rate?: number }>;
}

export interface XReferencedTweet {
  type: 'retweeted' | 'quoted' | 'replied_to' | string;
  id: string;
}

/** A post, with the tweet.fields of X-API.md §2. */
export interface XTweetData {
  id: string;
  text: string;
  author_id?: string;
  created_at?: string;
  conversation_id?: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: XReferencedTweet[];
  attachments?: { media_keys?: string[] };
  /** Full text of posts over 280 characters. */
  note_tweet?: { text: string };
}

export interface XIncludes {
  users?: XUserData[];
  media?: XMediaData[];
  tweets?: XTweetData[];
}

/** One page of `GET /2/users/:id/mentions` (newest first). */
export interface XMentionsPage {
  data: XTweetData[];
  includes: XIncludes;
  meta: { newest_id?: string; oldest_id?: string; next_token?: string; result_count?: number };
}

/** A DM event with the dm_event.fields of X-API.md §2. */
export interface XDmEventData {
  id: string;
  event_type: string;
  text?: string;
  created_at?: string;
  sender_id?: string;
  dm_conversation_id?: string;
  attachments?: { media_keys?: string[] };
  referenced_tweets?: Array<{ id: string }>;
}

/** One page of `GET /2/dm_events` (newest first). */
export interface XDmEventsPage {
  data: XDmEventData[];
  includes: XIncludes;
  meta: { next_token?: string; result_count?: number };
}

export interface MentionsQuery {
  accountId: string;
  maxResults: number;
  sinceId?: string;
  untilId?: string;
  /** ISO time; only used when there is no `sinceId` (X: ids take precedence). */
  startTime?: string;
  paginationToken?: string;
}

export interface DmEventsQuery {
  maxResults: number;
  paginationToken?: string;
}

/** Observed `x-rate-limit-*` headers of one response. */
export interface RateObservation {
  /** Endpoint key, e.g. `GET /2/users/:id/mentions`. */
  endpoint: string;
  limit: number;
  remaining: number;
  /** Epoch seconds. */
  reset: number;
}

/**
 * Reads X for one connected account. Every method throws `ChannelError` (mapped by the adapter).
 *
 * @example
 * const x = openX(accessToken, (obs) => windows.set(obs.endpoint, obs));
 * const page = await x.mentions({ accountId, maxResults: 100, sinceId });
 */
export interface XReader {
  mentions(query: MentionsQuery): Promise<XMentionsPage>;
  dmEvents(query: DmEventsQuery): Promise<XDmEventsPage>;
  /** Follows `targetUserId` as `accountId`. */
  follow(accountId: string, targetUserId: string): Promise<void>;
}

/** Builds an `XReader` for one access token; `onRateLimit` sees every response's rate-limit headers. */
export type XReaderFactory = (accessToken: string, onRateLimit: (o: RateObservation) => void) => XReader;

/** Publishes inbound messages to the inbound FIFO queue. Resolves only when EVERY message was accepted. */
export interface InboundPublisher {
  publish(messages: InboundMessage[]): Promise<void>;
}

/** Partial health update the poller writes (never touches `version` or admin fields). */
export interface HealthPatch {
  lastPollAt?: string;
  lastSuccessAt?: string;
  nextPollAt?: string;
  /** `null` clears it. */
  lastError?: { code: string; kind: string; message: string; at: string } | null;
  rateLimits?: Record<string, RateWindow>;
  notBefore?: Record<string, string>;
  counters?: { mentionsDelivered?: number; dmsDelivered?: number; followed?: number };
}

/**
 * Poller-owned state on the channel item: checkpoints, health and the due-index time.
 * `saveCheckpoints` is conditional on the checkpoints read at the start of the poll and never
 * touches `version`, so admin changes and checkpoint moves never overwrite each other.
 */
export interface PollStateStore {
  /**
   * Moves the checkpoints from `expected` to `next` (throws `retryable` code `conflict` when they
   * changed meanwhile) and applies `health` in the same write.
   */
  saveCheckpoints(
    channelId: string,
    expected: ChannelCheckpoints,
    next: ChannelCheckpoints,
    health?: HealthPatch,
  ): Promise<void>;
  /** Writes health fields only (no condition beyond the channel existing). */
  saveHealth(channelId: string, health: HealthPatch): Promise<void>;
  /** Sets the next poll time in the due index (`gsi1sk`), only while the channel is in it. */
  scheduleNextPoll(channelId: string, nextPollAt: string): Promise<void>;
  /** Takes the per-channel poll lease; false when another live holder has it. */
  acquirePollLease(channelId: string, owner: string, ttlMs: number): Promise<boolean>;
  releasePollLease(channelId: string, owner: string): Promise<void>;
}

/** A channel due for polling, as the due index lists it. */
export interface DueChannel {
  channelId: string;
  /** The `gsi1sk` value seen (the claim is conditional on it). */
  dueAt: string;
}

/** The due index (gsi1): which channels to poll, and the dispatcher's claim on them. */
export interface DueIndex {
  /** One page of channels with `gsi1sk <= now` (a Query, never a Scan). */
  listDue(now: string, cursor?: string): Promise<{ items: DueChannel[]; nextCursor?: string }>;
  /** Moves `gsi1sk` from `dueAt` to `claimedUntil`; false when someone else moved it first. */
  claim(channelId: string, dueAt: string, claimedUntil: string): Promise<boolean>;
  /** Undoes a claim (back to `dueAt`) when its job could not be enqueued. */
  release(channelId: string, claimedUntil: string, dueAt: string): Promise<void>;
}

/** A poll job: one channel, one tick. */
export interface PollJob {
  channelId: string;
  /** ISO time of the dispatcher tick that created it. */
  tick: string;
}

/** Sends poll jobs; returns the channel ids whose job could not be enqueued. */
export interface PollJobQueue {
  send(jobs: PollJob[]): Promise<{ failed: string[] }>;
}

/** One auto-follow record: whom the account followed (or will), so that nobody is followed twice. */
export interface FollowRecord {
  userId: string;
  state: 'queued' | 'followed' | 'skipped';
  at: string;
}

/** Auto-follow memory and the daily cap, per channel. */
export interface FollowStore {
  get(channelId: string, userId: string): Promise<FollowRecord | null>;
  /** Adds a `queued` record unless one exists; true when added. */
  enqueue(channelId: string, userId: string, at: string): Promise<boolean>;
  /** Up to `limit` queued user ids, oldest first. */
  listQueued(channelId: string, limit: number): Promise<string[]>;
  /** Takes one slot of the day's cap (`day` = YYYY-MM-DD UTC); false when the cap is used up. */
  takeDailySlot(channelId: string, day: string, cap: number): Promise<boolean>;
  /** Ends a queued record: `followed`, or `skipped` when X can never follow this user. */
  markDone(channelId: string, userId: string, state: 'followed' | 'skipped', at: string): Promise<void>;
}
