/**
 * Auto-follow: each mention author the account does not follow yet is followed once, so that they
 * can DM it. Rules:
 * - remembered per channel (FollowStore): a user is never followed twice, even after unfollowing;
 * - our own daily cap (default 50/day) on top of X's window; authors beyond it stay queued for later polls;
 * - failures never block delivery (this runs after the checkpoint moved) and are never retried in a loop;
 * - X's first 403 (following is Enterprise-only on self-serve plans since 2026-04-20, X-API.md §0)
 *   turns the feature off with a reason (`health.disabled.autoFollow`) until the admin acts.
 */
import type { ChannelError } from '../errors';
import type { FollowStore, XReader } from './types';

export const DEFAULT_FOLLOW_DAILY_CAP = 50;
/** Follows attempted per poll run, so one busy poll cannot spend the day's cap in one burst. */
export const DEFAULT_FOLLOWS_PER_RUN = 10;
export const FOLLOW_UNAVAILABLE_REASON =
  'X does not allow following on this API plan (Enterprise only since 2026-04-20): auto-follow is off';

export interface AutoFollowInput {
  channelId: string;
  accountId: string;
  /** Authors of the mentions just delivered, any order, duplicates allowed. */
  authorIds: string[];
  x: XReader;
  now: Date;
  dailyCap?: number;
  perRun?: number;
  /** Maps a thrown error to a ChannelError (the X adapter already does; kept for foreign errors). */
  toChannelError: (e: unknown) => ChannelError;
}

export interface AutoFollowOutcome {
  followed: number;
  queued: number;
  /** Set when X refused following for the plan: the caller turns the feature off with this reason. */
  disabledReason?: string;
  /** Set after a 429 on the follow endpoint: no follow call before this time. */
  notBefore?: Date;
  /** The last error met (already handled: logged by the caller, never retried in a loop). */
  error?: ChannelError;
}

/** Queues new authors and follows queued ones within the daily cap. Never throws for X errors. */
export async function runAutoFollow(
  follows: FollowStore,
  input: AutoFollowInput,
): Promise<AutoFollowOutcome> {
  const out: AutoFollowOutcome = { followed: 0, queued: 0 };
  const at = input.now.toISOString();
  for (const userId of new Set(input.authorIds)) {
    if (userId === input.accountId) continue;
    if (await follows.enqueue(input.channelId, userId, at)) out.queued++;
  }
  const queued = await follows.listQueued(input.channelId, input.perRun ?? DEFAULT_FOLLOWS_PER_RUN);
  const day = at.slice(0, 10);
  for (const userId of queued) {
    if (!(await follows.takeDailySlot(input.channelId, day, input.dailyCap ?? DEFAULT_FOLLOW_DAILY_CAP)))
      break;
    try {
      await input.x.follow(input.accountId, userId);
    } catch (e) {
      const error = input.toChannelError(e);
      out.error = error;
      if (error.kind === 'permanent' && error.code === 'access_level') {
        out.disabledReason = FOLLOW_UNAVAILABLE_REASON;
        break;
      }
      if (error.kind === 'permanent') {
        // this user can never be followed (deleted, blocked): drop them so the queue keeps moving
        await follows.markDone(input.channelId, userId, 'skipped', at);
        continue;
      }
      if (error.code === 'rate_limited') out.notBefore = error.notBefore;
      // anything else: leave the user queued and try again at a later poll, not now
      break;
    }
    await follows.markDone(input.channelId, userId, 'followed', at);
    out.followed++;
  }
  return out;
}
