/**
 * The DM band scan of one poll, as a function over a page reader: which DM events a run delivers and
 * where it leaves the checkpoint. No I/O of its own (the reader is the X call with its retries), no
 * clock, no store: test/property/checkpoint-order.test.ts drives it with pages of any size and order.
 *
 * `/2/dm_events` has no since/until ids: every run pages from the newest event down. The checkpoint C
 * is the newest delivered event (`dmEventId`, `dmCreatedAt`). A run stopped after `maxPages` pages of
 * undelivered events has delivered a band [until … newest]; the backlog remembers it, and the next run
 * skips the band by (created_at, id), delivers below it, and when it reaches C delivers the fresh
 * events above the band too and moves C to the top. Re-reads of the band on the same UTC day are not
 * billed again (X-API.md §4).
 */
import type { ChannelCheckpoints } from '../channel';
import { retryable, type ChannelError } from '../errors';
import { compareXIds } from './mapping';
import type { DmEventsQuery, XDmEventData, XDmEventsPage, XIncludes } from './types';

/** Reads one page of DM events, newest first. */
export type DmPageReader = (query: DmEventsQuery) => Promise<XDmEventsPage>;

type DmCheckpoints = Pick<ChannelCheckpoints, 'dmEventId' | 'dmCreatedAt' | 'dmBacklog'>;

export interface DmScanInput {
  checkpoints: DmCheckpoints;
  /** Where a first scan (no checkpoint) starts: sign-in time minus the backfill window. */
  startTime: string;
  /** Pages of undelivered events one run reads at most. */
  maxPages: number;
  /** The first page's size: small, because an idle poll re-reads (and X may bill) the newest events. */
  idlePageSize: number;
  toChannelError: (e: unknown) => ChannelError;
  /**
   * Every DM created before this time is delivered (the channel's `dmCoveredTo`, or the real-time
   * proof, core/realtime/proof.ts): the scan stops there when it lies above the checkpoint.
   */
  floor?: string | null;
  /** A DM with media the webhook left to the poller (`dmHold`): the scan reads down to it whatever `floor` says. */
  hold?: string | null;
}

export interface DmScan {
  /** Events to deliver, oldest first by (created_at, id). */
  items: Array<{ event: XDmEventData; includes: XIncludes }>;
  /** The checkpoint fields after delivering `items`. */
  next: DmCheckpoints;
  /** A later page failed: `items` are what could be delivered without a gap. */
  stopError?: ChannelError;
  /**
   * More fresh events above the band than one run reads: nothing could be delivered without a gap
   * (retryable `dm_backlog_overflow`; `next` equals the input).
   */
  overflow?: ChannelError;
  /** The scan read down to its lower bound: every DM created before the read is in `items` or delivered. */
  complete: boolean;
}

interface Bound {
  id: string | null;
  createdAt: string;
}

const timeOf = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/** Orders DM events by (created_at, id). */
export function compareEvents(
  a: { id: string; createdAt: string },
  b: { id: string; createdAt: string },
): number {
  const ta = timeOf(a.createdAt);
  const tb = timeOf(b.createdAt);
  if (ta !== tb && Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  return compareXIds(a.id, b.id);
}

const eventKey = (e: XDmEventData) => ({ id: e.id, createdAt: e.created_at ?? '' });

/** Whether event `e` is at or before the checkpoint/lower bound (X-API.md §2: page "until the checkpoint"). */
function atOrBefore(e: XDmEventData, bound: Bound): boolean {
  if (bound.id)
    return e.id === bound.id || compareEvents(eventKey(e), { id: bound.id, createdAt: bound.createdAt }) <= 0;
  return timeOf(e.created_at) < timeOf(bound.createdAt);
}

type Read = Array<{ event: XDmEventData; includes: XIncludes }>;

const oldestFirst = (list: Read) =>
  [...list].sort((a, b) => compareEvents(eventKey(a.event), eventKey(b.event)));

/**
 * Scans DM events from the newest down to the checkpoint. Throws the first page's error and
 * `needs_reauth` on any page; a later page's error ends the scan with what can be delivered.
 */
export async function scanDms(read: DmPageReader, input: DmScanInput): Promise<DmScan> {
  const cp = input.checkpoints;
  const backlog = cp.dmBacklog ?? null;
  let lower: Bound =
    cp.dmEventId && cp.dmCreatedAt
      ? { id: cp.dmEventId, createdAt: cp.dmCreatedAt }
      : { id: null, createdAt: input.startTime };
  const later = (t: string | null | undefined, than: Bound) =>
    Boolean(t && Number.isFinite(timeOf(t)) && timeOf(t) > timeOf(than.createdAt));
  if (later(input.floor, lower)) lower = { id: null, createdAt: input.floor! };
  if (input.hold && !later(input.hold, lower) && Number.isFinite(timeOf(input.hold)))
    lower = { id: null, createdAt: input.hold };
  const band = backlog
    ? {
        newest: { id: backlog.newestId, createdAt: backlog.newestCreatedAt },
        until: { id: backlog.untilId, createdAt: backlog.untilCreatedAt },
      }
    : null;
  const fresh: Read = [];
  const older: Read = [];
  let top: XDmEventData | undefined;
  let oldestExamined: XDmEventData | undefined;
  // without a backlog every event read is "older" (below the top); with one, only below the band
  let inOlder = !band;
  let olderPages = 0;
  let reachedEnd = false;
  let stopError: ChannelError | undefined;
  let paginationToken: string | undefined;
  let pageSize = input.idlePageSize;
  // a hard stop for the rare band that sits below more than `maxPages` pages of fresh events
  for (let page = 0; page < input.maxPages * 3; page++) {
    let res: XDmEventsPage;
    try {
      res = await read({ maxResults: pageSize, paginationToken });
    } catch (e) {
      const error = input.toChannelError(e);
      if (page === 0 || error.kind === 'needs_reauth') throw error;
      stopError = error;
      break;
    }
    for (const event of res.data) {
      if (!event.created_at) continue; // we always ask for created_at; an event without it cannot be ordered
      if (atOrBefore(event, lower)) {
        reachedEnd = true;
        break;
      }
      top ??= event;
      if (band) {
        const k = eventKey(event);
        if (compareEvents(k, band.newest) > 0) {
          fresh.push({ event, includes: res.includes });
          continue;
        }
        if (compareEvents(k, band.until) >= 0) continue; // delivered by an earlier run
        inOlder = true;
      }
      older.push({ event, includes: res.includes });
      oldestExamined = event;
    }
    if (inOlder) olderPages++;
    paginationToken = res.meta.next_token;
    if (!paginationToken) reachedEnd = true; // X's history (30 days) ends here
    if (reachedEnd || olderPages >= input.maxPages) break;
    pageSize = 100; // more than the idle page: new events are coming, read in full pages
  }

  // (a field the input lacks stays absent unless the scan sets it: older records lack some)
  const next: DmCheckpoints = { dmEventId: cp.dmEventId, dmCreatedAt: cp.dmCreatedAt };
  if (cp.dmBacklog !== undefined) next.dmBacklog = cp.dmBacklog;
  let items: Read = [];
  if (reachedEnd) {
    items = [...oldestFirst(older), ...oldestFirst(fresh)];
    const newest = top ?? (band ? { id: band.newest.id, created_at: band.newest.createdAt } : undefined);
    if (newest) {
      next.dmEventId = newest.id;
      next.dmCreatedAt = newest.created_at ?? null;
    }
    next.dmBacklog = null;
  } else if (inOlder && oldestExamined?.created_at) {
    // stopped inside the undelivered part: deliver down to `oldestExamined`, remember the band
    items = oldestFirst(older);
    const newest = band ? band.newest : { id: top!.id, createdAt: top!.created_at! };
    next.dmBacklog = {
      newestId: newest.id,
      newestCreatedAt: newest.createdAt,
      untilId: oldestExamined.id,
      untilCreatedAt: oldestExamined.created_at,
    };
  }
  const overflow =
    !reachedEnd && !inOlder
      ? retryable('dm_backlog_overflow', 'too many new DM events to reach the checkpoint in one run')
      : undefined;
  return { items, next, stopError, overflow, complete: reachedEnd };
}
