/**
 * The dispatcher tick: every channel whose due time (`gsi1sk`) has come gets one poll job.
 *
 * A tick is one paginated KEYS_ONLY Query of the due index (the adapter reads the index's shards in
 * parallel, adapters/aws/table.ts `DUE_SHARDS`) plus batched SendMessageBatch calls (10 jobs each,
 * several in flight, the next page read while the current one is sent). The dispatcher
 * writes nothing to DynamoDB: 10,000 due channels cost about 1 MB of index reads and 1,000 SQS
 * requests, not 10,000 conditional writes.
 *
 * Why no claim here any more: the dispatcher used to move each channel's `gsi1sk` with a conditional
 * UpdateItem before enqueueing its job, so that an overlapping or retried tick would not enqueue it
 * twice. That write rewrote the whole channel item (≈4 WCU) for every channel, every tick — the
 * dominant cost and time of a tick. The same guarantee is now kept where a write happens anyway: the
 * poller's claim (core/inbound/poll.ts) is a conditional update of `gsi1sk` from the value this tick
 * saw (`dueAt`, carried in the job) to the lease expiry. So a duplicate job — overlapping tick,
 * retried dispatcher, SQS redelivery — finds `gsi1sk` moved and is acked after that one refused
 * request, without calling X; a job that is lost leaves `gsi1sk` due, and the next tick sends another.
 * Every job carries a dedup key (`<channelId>@<tick>`) so its copies can be recognised.
 */
import type { Clock } from '../ports';
import type { DueIndex, PollJob, PollJobQueue } from './types';
import { pollJobDedupKey } from './types';

export interface DispatchDeps {
  clock: Clock;
  due: DueIndex;
  jobs: PollJobQueue;
}

export interface DispatchOutcome {
  /** Channels listed as due. */
  due: number;
  enqueued: number;
  /** Not enqueued: they stay due, so the next tick sends them again. */
  failed: number;
  pages: number;
  /** The tick time every job of this run carries. */
  tick: string;
}

/** How old a schedule time may be and still be used as the tick (a retried invocation's). */
export const MAX_TICK_AGE_MS = 10 * 60_000;

/**
 * The time a tick runs as: the schedule's time when given and usable, else now. A time in the future
 * (clock skew) would list channels before they are due; one older than `MAX_TICK_AGE_MS` is a late
 * retry, better served as a tick of its own.
 */
export function tickTime(now: Date, scheduled?: Date): Date {
  const t = scheduled?.getTime() ?? Number.NaN;
  return Number.isFinite(t) && t <= now.getTime() && now.getTime() - t <= MAX_TICK_AGE_MS ? new Date(t) : now;
}

/**
 * Runs one dispatcher tick. `tick` is the schedule's time (the EventBridge event's `time`, so that a
 * retried invocation produces the same dedup keys); absent: the clock's now. Exported for the
 * benchmark (`dispatcher.channels10kMs`).
 */
export async function dispatchDueChannels(deps: DispatchDeps, tick?: Date): Promise<DispatchOutcome> {
  const tickIso = tickTime(deps.clock.now(), tick).toISOString();
  const out: DispatchOutcome = { due: 0, enqueued: 0, failed: 0, pages: 0, tick: tickIso };
  let cursor: string | undefined;
  const sends: Array<Promise<void>> = [];
  // The next page is read while the jobs of this one are sent: Query and SendMessageBatch overlap.
  do {
    const page = await deps.due.listDue(tickIso, cursor);
    out.pages++;
    cursor = page.nextCursor;
    out.due += page.items.length;
    if (!page.items.length) continue;
    const jobs: PollJob[] = page.items.map((c) => {
      const job = { channelId: c.channelId, tick: tickIso, dueAt: c.dueAt };
      return { ...job, dedupKey: pollJobDedupKey(job) };
    });
    const sent = deps.jobs.send(jobs).then(({ failed }) => {
      out.failed += failed.length;
      out.enqueued += jobs.length - failed.length;
    });
    // observed now (no unhandled rejection while the next page is read), rethrown by Promise.all below
    sent.catch(() => undefined);
    sends.push(sent);
  } while (cursor);
  await Promise.all(sends);
  return out;
}
