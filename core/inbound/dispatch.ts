/**
 * The dispatcher tick: every channel whose due time (`gsi1sk`) has come gets one poll job.
 *
 * poll-jobs is a standard queue (at-least-once, and an EventBridge tick may overlap or be retried),
 * so each job is preceded by a *claim*: a conditional write moving the channel's `gsi1sk` from the
 * value we read to "claimed until now + claimSeconds". Only the winner enqueues; an overlapping tick
 * sees the moved `gsi1sk` (not due, or a failed condition) and skips. The poller then writes the
 * real next poll time. If a job is lost, the claim simply expires and a later tick dispatches again.
 * Duplicate deliveries of one job are stopped by the poller's per-channel poll lease.
 */
import type { Clock } from '../ports';
import { mapLimit } from './concurrency';
import type { DueIndex, PollJobQueue } from './types';

export interface DispatchDeps {
  clock: Clock;
  due: DueIndex;
  jobs: PollJobQueue;
  /** How long a claim holds the channel out of the due index: ≥ the poll-jobs visibility timeout. */
  claimSeconds?: number;
  /** Conditional writes in flight at once. */
  concurrency?: number;
}

export interface DispatchOutcome {
  /** Channels listed as due. */
  due: number;
  /** Claims won (the rest were taken by an overlapping tick). */
  claimed: number;
  enqueued: number;
  /** Claimed but not enqueued (claim released, so the next tick retries them). */
  failed: number;
  pages: number;
}

export const DEFAULT_CLAIM_SECONDS = 180;

/** Runs one dispatcher tick. Exported for the benchmark (`dispatcher.channels10kMs`). */
export async function dispatchDueChannels(deps: DispatchDeps): Promise<DispatchOutcome> {
  const now = deps.clock.now();
  const nowIso = now.toISOString();
  const claimedUntil = new Date(
    now.getTime() + (deps.claimSeconds ?? DEFAULT_CLAIM_SECONDS) * 1000,
  ).toISOString();
  const concurrency = deps.concurrency ?? 32;
  const out: DispatchOutcome = { due: 0, claimed: 0, enqueued: 0, failed: 0, pages: 0 };
  let cursor: string | undefined;
  // pages are processed while the next one is being read: Query and the claims overlap
  let nextPage = deps.due.listDue(nowIso, cursor);
  do {
    const page = await nextPage;
    out.pages++;
    cursor = page.nextCursor;
    if (cursor) nextPage = deps.due.listDue(nowIso, cursor);
    out.due += page.items.length;
    const won = await mapLimit(page.items, concurrency, (item) =>
      deps.due.claim(item.channelId, item.dueAt, claimedUntil),
    );
    const claimed = page.items.filter((_, i) => won[i]);
    out.claimed += claimed.length;
    if (!claimed.length) continue;
    const { failed } = await deps.jobs.send(claimed.map((c) => ({ channelId: c.channelId, tick: nowIso })));
    const failedSet = new Set(failed);
    out.failed += failedSet.size;
    out.enqueued += claimed.length - failedSet.size;
    await mapLimit(
      claimed.filter((c) => failedSet.has(c.channelId)),
      concurrency,
      (c) => deps.due.release(c.channelId, claimedUntil, c.dueAt),
    );
  } while (cursor);
  return out;
}
