/**
 * Inbound ports and the X data shapes the poller reads. Core never imports twitter-api-v2: the X
 * adapter (adapters/x/x-reader.ts) returns these plain shapes, which mirror X's v2 JSON
 * (X-API.md §2) with only the fields we ask for.
 */
import type { BudgetHealth } from '../cost/budget-floor';
import type { InboundMessage } from '../../contracts';
import type { DmMediaBounds, DmMediaFile, DmMediaRef } from './dm-media';
import type { Channel, ChannelCheckpoints, RateWindow } from '../channel';

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
  /** The author's description of the media (`media.fields=alt_text`). */
  alt_text?: string;
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
  /**
   * Downloads one DM attachment with this token (X-API.md §9), within `bounds` (./dm-media.ts).
   * Absent (test fakes): DM attachments are delivered unavailable.
   */
  dmMedia?(ref: DmMediaRef, bounds: DmMediaBounds): Promise<DmMediaFile>;
}

/** Builds an `XReader` for one access token; `onRateLimit` sees every response's rate-limit headers. */
export type XReaderFactory = (accessToken: string, onRateLimit: (o: RateObservation) => void) => XReader;

/** Publishes inbound messages to the inbound FIFO queue. Resolves only when EVERY message was accepted. */
export interface InboundPublisher {
  /**
   * Queues every message or throws. A publisher that gave up part-way attaches the messages it DID
   * queue to its error as `queued` ({@link queuedBeforeFailure}), so they can be recorded as delivered.
   */
  publish(messages: InboundMessage[]): Promise<void>;
}

/** The messages a failed `publish` had already queued (empty when the error names none). */
export function queuedBeforeFailure(error: unknown): InboundMessage[] {
  const queued = (error as { queued?: unknown } | null | undefined)?.queued;
  return Array.isArray(queued) ? (queued as InboundMessage[]) : [];
}

/** Partial health update the poller writes (never touches `version` or admin fields). */
export interface HealthPatch {
  lastPollAt?: string;
  lastSuccessAt?: string;
  /** Set when the poll delivered something (alerts: no inbound for N hours). */
  lastDeliveredAt?: string;
  nextPollAt?: string;
  /** `null` clears it. */
  lastError?: { code: string; kind: string; message: string; at: string } | null;
  rateLimits?: Record<string, RateWindow>;
  notBefore?: Record<string, string>;
  counters?: {
    mentionsDelivered?: number;
    dmsDelivered?: number;
    followed?: number;
    /** DM attachments stored in the media bucket / delivered unavailable (core/inbound/dm-media.ts). */
    attachmentsStored?: number;
    attachmentsUnavailable?: number;
  };
  /** The budget's verdict, when this poll checked it (core/cost/budget-floor.ts). */
  budget?: BudgetHealth;
}

/**
 * What a poll found when it claimed its channel: the channel as stored right after the claim, and the
 * due-index value the claim replaced (handed back by `releasePoll` when the poll fails).
 */
export interface PollClaim {
  channel: Channel;
  /** `gsi1sk` before the claim. */
  dueAt: string;
}

/** Why a claim was refused (the job is acked without calling X). */
export type ClaimRefusal = 'channel_not_found' | 'not_pollable' | 'not_due' | 'lease_held';

/** The one write that ends a poll (see `PollStateStore.finishPoll`). */
export interface PollFinish {
  /** The claim's owner: the write also ends the claim. */
  owner: string;
  /** Checkpoints as read at the claim; the write is conditional on them. */
  expected: ChannelCheckpoints;
  /** New checkpoints, or undefined when they did not move. */
  next?: ChannelCheckpoints;
  health: HealthPatch;
  /** The next poll time (`gsi1sk`), only while the channel is in the due index. */
  nextPollAt: string;
}

/**
 * Poller-owned state on the channel item: the claim (poll lease), checkpoints, health and the
 * due-index time. A poll costs two writes on this item: `claimPoll` at the start, `finishPoll` at the end
 * (plus one `blockEndpoint` per 429).
 * Neither touches `version`, so admin changes and polls never overwrite each other.
 */
export interface PollStateStore {
  /** One read of the channel and its due-index entry (for jobs that do not carry `dueAt`). */
  peekDue(channelId: string): Promise<{ dueAt: string | null; owner: string | null } | null>;
  /**
   * Claims the channel for one job: moves `gsi1sk` from `seenDueAt` to `leaseUntil` (out of the due
   * index until then, so no tick dispatches it meanwhile) and records `owner`, conditional on the
   * channel being in the due index with `gsi1sk = seenDueAt`. Returns the channel as stored after the
   * claim, or why it was refused.
   */
  claimPoll(
    channelId: string,
    claim: { owner: string; seenDueAt: string; leaseUntil: string },
  ): Promise<PollClaim | { refused: ClaimRefusal }>;
  /**
   * Ends a poll in one conditional write: checkpoints `expected → next` (throws `retryable` code
   * `conflict` when they changed meanwhile), the health patch, `gsi1sk = nextPollAt` and the end of
   * the claim. A channel deleted meanwhile is left deleted; a paused one gets no `gsi1sk`.
   */
  finishPoll(channelId: string, finish: PollFinish): Promise<void>;
  /** Hands the claim back after a failed poll (`gsi1sk` back to `dueAt`), only while `owner` holds it. */
  releasePoll(channelId: string, owner: string, dueAt: string): Promise<void>;
  /**
   * Records a 429's block at once (`health.notBefore.<endpoint> = until`, ISO), on its own and before
   * anything else of the poll can fail: the block must outlive a crash, a failed publish or a lost
   * checkpoint race, which all drop the final write. Only ever moves the block later (a later one
   * already stored wins). Costs a write only on a 429.
   */
  blockEndpoint(channelId: string, endpoint: string, until: string): Promise<void>;
}

/** A channel due for polling, as the due index lists it. */
export interface DueChannel {
  channelId: string;
  /** The `gsi1sk` value seen (the poller's claim is conditional on it). */
  dueAt: string;
}

/** The due index (gsi1): which channels to poll. Read-only for the dispatcher. */
export interface DueIndex {
  /** One page of channels with `gsi1sk <= now` (a KEYS_ONLY Query, never a Scan). */
  listDue(now: string, cursor?: string): Promise<{ items: DueChannel[]; nextCursor?: string }>;
}

/** A poll job: one channel, one tick. */
export interface PollJob {
  channelId: string;
  /** ISO time of the dispatcher tick that created it (the poller plans the next poll from it). */
  tick: string;
  /**
   * `<channelId>@<tick>`: the same for every copy of one job (retried dispatcher, redelivery), so the
   * poller can tell duplicates apart in its logs. Filled in by the queue adapter when absent.
   */
  dedupKey?: string;
  /** The `gsi1sk` the dispatcher saw: the poller claims the channel only if it is still that value. */
  dueAt?: string;
}

/** The dedup key of a job: channel and tick. */
export const pollJobDedupKey = (job: Pick<PollJob, 'channelId' | 'tick'>): string =>
  `${job.channelId}@${job.tick}`;

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
