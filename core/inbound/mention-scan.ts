/**
 * The mention scan of one poll, as a function over a page reader: which mentions a run delivers and
 * where it leaves the checkpoint. No I/O of its own (the reader is the X call with its retries), no
 * clock, no store: test/property/checkpoint-order.test.ts drives it with pages of any size and order.
 *
 * X returns mentions newest first. A run reads at most `maxPages` pages from the newest down to the
 * checkpoint C (`since_id`). Stopped early, it has delivered [oldest seen … newest] but not what lies
 * between that and C: the *backlog* `{ newestId, untilId }` remembers it, and the next run asks
 * `since_id = C, until_id = untilId` until it reaches C; only then does C become `newestId`. So the
 * checkpoint never passes a mention that was not delivered, and no mention is delivered twice.
 */
import type { ChannelCheckpoints } from '../channel';
import type { ChannelError } from '../errors';
import { compareXIds } from './mapping';
import type { MentionsQuery, XIncludes, XMentionsPage, XTweetData } from './types';

/** Reads one page of mentions (the query without the account). */
export type MentionPageReader = (query: Omit<MentionsQuery, 'accountId'>) => Promise<XMentionsPage>;

export interface MentionScanInput {
  checkpoints: Pick<ChannelCheckpoints, 'mentionsSinceId' | 'mentionsBacklog'>;
  /** Where a first scan (no checkpoint) starts: sign-in time minus the backfill window. */
  startTime: string;
  maxPages: number;
  /** Turns what the reader threw into a ChannelError (the reader's own errors pass unchanged). */
  toChannelError: (e: unknown) => ChannelError;
}

export interface MentionScan {
  /** Mentions newer than the checkpoint (and not before the first scan's start), oldest first. */
  items: Array<{ tweet: XTweetData; includes: XIncludes }>;
  /** The checkpoint fields after delivering `items`. */
  next: Pick<ChannelCheckpoints, 'mentionsSinceId' | 'mentionsBacklog'>;
  /** A later page failed: `items` are the pages read before it; the backlog keeps the rest. */
  stopError?: ChannelError;
}

const newer = (a: string | undefined, b: string | undefined) => (a && (!b || compareXIds(a, b) > 0) ? a : b);
const older = (a: string | undefined, b: string | undefined) => (a && (!b || compareXIds(a, b) < 0) ? a : b);

/**
 * Scans mentions from the newest down to the checkpoint. Throws the first page's error (nothing was
 * read) and `needs_reauth` on any page; a later page's error ends the scan with what was read.
 */
export async function scanMentions(read: MentionPageReader, input: MentionScanInput): Promise<MentionScan> {
  const sinceId = input.checkpoints.mentionsSinceId ?? null;
  const backlog = input.checkpoints.mentionsBacklog ?? null;
  const startTime = sinceId ? undefined : input.startTime;
  const items: MentionScan['items'] = [];
  let newestId: string | undefined;
  let oldestId: string | undefined;
  let complete = false;
  let stopError: ChannelError | undefined;
  let paginationToken: string | undefined;
  for (let page = 0; page < input.maxPages; page++) {
    let res: XMentionsPage;
    try {
      res = await read({
        maxResults: 100,
        sinceId: sinceId ?? undefined,
        untilId: backlog?.untilId,
        startTime,
        paginationToken,
      });
    } catch (e) {
      const error = input.toChannelError(e);
      if (page === 0 || error.kind === 'needs_reauth') throw error;
      stopError = error; // deliver the pages read so far; the backlog keeps the rest
      break;
    }
    for (const tweet of res.data) {
      items.push({ tweet, includes: res.includes });
      // every id counts, not only the page's first and last: the order inside a page is not relied on
      newestId = newer(tweet.id, newestId);
      oldestId = older(tweet.id, oldestId);
    }
    newestId = newer(res.meta.newest_id, newestId);
    oldestId = older(res.meta.oldest_id, oldestId);
    paginationToken = res.meta.next_token;
    if (!paginationToken) {
      complete = true;
      break;
    }
  }

  const startMs = startTime ? Date.parse(startTime) : Number.NEGATIVE_INFINITY;
  const deliver = items
    // defensive: never older than the checkpoint or the first poll's start, whatever X returns
    .filter(({ tweet }) => !sinceId || compareXIds(tweet.id, sinceId) > 0)
    .filter(({ tweet }) => !tweet.created_at || Date.parse(tweet.created_at) >= startMs)
    .sort((a, b) => compareXIds(a.tweet.id, b.tweet.id));

  // (a field the input lacks stays absent unless the scan sets it: older records lack some)
  const next: MentionScan['next'] = { mentionsSinceId: sinceId };
  if (input.checkpoints.mentionsBacklog !== undefined)
    next.mentionsBacklog = input.checkpoints.mentionsBacklog;
  if (complete) {
    next.mentionsSinceId = backlog ? backlog.newestId : (newestId ?? sinceId);
    next.mentionsBacklog = null;
  } else if (oldestId && newestId) {
    next.mentionsBacklog = backlog ? { ...backlog, untilId: oldestId } : { newestId, untilId: oldestId };
  }
  return { items: deliver, next, stopError };
}
