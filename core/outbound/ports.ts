/**
 * Ports of the outbound (sender) core. Adapters: `adapters/aws/dynamo-idempotency.ts`,
 * `adapters/aws/dynamo-app-budget.ts`, `adapters/aws/sqs-results-publisher.ts`, `adapters/x/x-writer.ts`.
 * Every adapter turns vendor errors into `ChannelError` (core/errors.ts).
 */
import type { ResultMessage } from '../../contracts';
import type { LastError, RateWindow } from '../channel';

/** Lifecycle of one (channel, idempotency key) record. */
export type IdempotencyState = 'in_progress' | 'completed';

/**
 * The at-most-once record of one outbound command.
 *
 * @example
 * ```ts
 * { channelId: 'ch1', key: 'case-42-reply-1', state: 'in_progress', bodyHash: 'sha256…', owner: 'uuid',
 *   leaseExpiresAt: '2026-09-01T10:00:60Z', attemptStartedAt: '2026-09-01T10:00:00Z', uncertain: false }
 * ```
 */
export interface IdempotencyRecord {
  channelId: string;
  key: string;
  state: IdempotencyState;
  /** SHA-256 of the command's body (kind, target, text, media): a different body under the same key is `key_reuse`. */
  bodyHash: string;
  /** Random id of the attempt holding the record; every later write is conditional on it (fencing). */
  owner: string;
  /** While `in_progress`: after this time the holder is presumed dead and the record may be taken over. */
  leaseExpiresAt: string;
  /** When the first attempt to call X started: the earliest time an earlier delivery can be found at X. */
  attemptStartedAt: string;
  /** True once an attempt's call to X ended without an answer (timeout, reset): X may have posted. */
  uncertain: boolean;
  /** The stored result, once `completed`. */
  result?: ResultMessage;
}

/** What an attempt writes when it takes (or takes over) a record. */
export interface IdempotencyClaim {
  bodyHash: string;
  owner: string;
  leaseExpiresAt: string;
  attemptStartedAt: string;
  uncertain: boolean;
}

/**
 * The answer of a conditional write: done, or refused because the record was not as required, with the
 * record as it was at that moment (`null`: absent). DynamoDB returns it with the failed condition
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), so nobody re-reads it.
 */
export type IdempotencyWrite = { ok: true } | { ok: false; current: IdempotencyRecord | null };

/**
 * Conditional storage of idempotency records (lifecycle: ./idempotency.ts). `claim` and the updates
 * answer `{ ok: false, current }` when the condition failed (another attempt got there first); they
 * never overwrite someone else's record.
 *
 * @example
 * ```ts
 * const w = await store.complete('ch1', 'case-42-reply-1', owner, result);
 * if (!w.ok && w.current?.state === 'completed') publish(w.current.result!); // another delivery's result
 * ```
 */
export interface IdempotencyStore {
  get(channelId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Creates the record (`expectedOwner` null: only if absent) or takes over the one held by `expectedOwner`. */
  claim(
    channelId: string,
    key: string,
    claim: IdempotencyClaim,
    expectedOwner: string | null,
  ): Promise<IdempotencyWrite>;
  /** Stores the final result and marks the record `completed` (only while `owner` holds it). */
  complete(channelId: string, key: string, owner: string, result: ResultMessage): Promise<IdempotencyWrite>;
  /** Deletes the record: X certainly did not act, so a later attempt may post (only while `owner` holds it). */
  release(channelId: string, key: string, owner: string): Promise<IdempotencyWrite>;
  /** Marks X's state unknown and ends the lease now, so the next attempt checks X before posting. */
  markUncertain(channelId: string, key: string, owner: string, now: Date): Promise<IdempotencyWrite>;
}

/** App-wide X write budgets (X-API.md §3): DM sends and posts (incl. replies) per 24 h per app. */
export type BudgetName = 'dm' | 'post';

export type BudgetTake =
  | { ok: true; window: string }
  | { ok: false; window: string; /** When the window ends and the budget is full again. */ retryAt: Date };

export interface AppBudget {
  /** Takes one unit of the current window's budget with a conditional increment. */
  take(name: BudgetName, now: Date): Promise<BudgetTake>;
  /** Gives a unit back when X certainly did not act (an error answer), best effort. */
  refund(name: BudgetName, window: string): Promise<void>;
}

/** What X answered to a write. `xId` is the post id, or the DM event id for DMs. */
export interface XWriteResult {
  xId: string;
}

/**
 * The result of looking at X for an earlier delivery of the same text after a crash.
 * `unknown` means X could not tell (lookup not allowed, or the history X returns does not reach back far enough).
 */
export type EarlierDelivery =
  { status: 'found'; xId: string } | { status: 'not_found' } | { status: 'unknown'; reason: string };

/** How to find an earlier delivery of a command. `text` is what we sent; `since` is when the first attempt began. */
export interface DeliveryQuery {
  accountId: string;
  kind: 'reply' | 'post' | 'dm';
  /** Tweet id for replies; conversation or user id for DMs. */
  targetId?: string;
  text: string;
  since: Date;
}

/** One media upload (media upload v2, X-API.md §9): what to declare and how to read the bytes. */
export interface MediaUpload {
  mediaType: string;
  category: 'tweet_image' | 'tweet_gif' | 'tweet_video' | 'dm_image' | 'dm_gif' | 'dm_video';
  totalBytes: number;
  /** Bytes `[start, end)` of the file, read chunk by chunk so a video never sits whole in memory. */
  read(start: number, end: number): Promise<Buffer>;
}

/**
 * One connected account's write access to X. Throws `ChannelError`; a write that may have been applied
 * (no answer) throws kind `retryable` with code {@link DELIVERY_UNKNOWN}.
 */
export interface XWriter {
  /** `mediaIds`: uploaded with {@link XWriter.uploadMedia}, 1–4, attached as `media.media_ids`. */
  reply(text: string, inReplyToTweetId: string, mediaIds?: readonly string[]): Promise<XWriteResult>;
  post(text: string, mediaIds?: readonly string[]): Promise<XWriteResult>;
  /** `target` containing `-` is a dm_conversation_id, otherwise a user id (participant); one `dm_*` media id at most. */
  sendDm(target: string, text: string, mediaId?: string): Promise<XWriteResult>;
  /**
   * The chunked upload (initialize, append per chunk, finalize, STATUS until processed): X's media id.
   * Not a write of a post: its failures never leave a delivery unknown.
   */
  uploadMedia(upload: MediaUpload): Promise<{ mediaId: string }>;
  findEarlierDelivery(query: DeliveryQuery): Promise<EarlierDelivery>;
}

/** The `x-rate-limit-*` headers of one X response; `endpoint` is keyed like `POST /2/tweets`. */
export interface XRateObservation {
  endpoint: string;
  limit: number;
  remaining: number;
  /** Epoch seconds (X's clock). */
  reset: number;
}

/**
 * Builds an XWriter acting with one access token. `onRateLimit` sees the rate-limit headers of every
 * response the writer gets, successes and errors alike.
 */
export type XWriterFactory = (
  accessToken: string,
  onRateLimit?: (observation: XRateObservation) => void,
) => XWriter;

/** ChannelError code of a write whose outcome at X is unknown (the request was sent, no answer came). */
export const DELIVERY_UNKNOWN = 'x_delivery_unknown';

/** What the sender adds to a channel's health after one command (every part optional). */
export interface SendHealthPatch {
  /** Windows seen in this attempt's responses, keyed like `POST /2/tweets`; each replaces the stored one. */
  rateLimits?: Record<string, RateWindow>;
  /** Added to `health.counters.sent` / `failed`. */
  counters?: { sent?: number; failed?: number };
  /** A failure that is the channel's problem (re-auth, plan, credits), for the admin console. */
  lastError?: LastError;
  /** When X accepted this command: `health.lastSentAt`, which ends a `credits_depleted` (core/alerts). */
  lastSentAt?: string;
}

/**
 * The sender's writes on the channel's health: path by path (`health.notBefore.<endpoint>`, counters by
 * ADD), never `version`, so they never conflict with admin changes or the poller's checkpoint moves.
 * A deleted channel is left deleted (the write is skipped).
 *
 * @example
 * ```ts
 * await health.block('ch1', 'POST /2/tweets', new Date('2026-09-01T10:15:00Z'));
 * await health.record('ch1', { counters: { sent: 1 }, rateLimits: { 'POST /2/tweets': window } });
 * ```
 */
export interface SendHealthStore {
  record(channelId: string, patch: SendHealthPatch): Promise<void>;
  /** Sets `health.notBefore[endpoint]` to `until`, unless a later time is stored already. */
  block(channelId: string, endpoint: string, until: Date): Promise<void>;
}

/** Publishes result messages (the results queue). */
export interface ResultsPublisher {
  publish(result: ResultMessage): Promise<void>;
}
