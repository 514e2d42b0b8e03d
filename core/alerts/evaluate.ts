/**
 * Alerts fire once per condition and clear once (issue 20, item 4). The durable state is one record per
 * open alert (`AlertStore`); every change of it is a conditional write, so two evaluators running at
 * once (a retried tick beside the next one) never both announce the same change: only the one whose
 * write succeeded publishes.
 *
 * Timeline of one alert:
 *  1. the condition appears → `open(record)` (absent → open, `pending: 'open'`, lease) → publish "opened"
 *     → `delivered` (pending removed);
 *  2. the condition ends → `startClear` (open, nothing pending → cleared, `pending: 'clear'`, lease) →
 *     publish "cleared" → `delivered` (record deleted);
 *  3. a crash or a failed publish between the write and `delivered` leaves `pending` set: once the lease
 *     has passed, the next evaluation takes it over (`claim`, conditional on the lease it saw) and
 *     publishes again. So an event is published at least once, and twice only when the process died
 *     after the bus accepted it and before `delivered` (EventBridge events carry the alert `id` and
 *     `openedAt` for a consumer to deduplicate).
 * A condition that returns while its "cleared" is still pending fires anew once that record is gone.
 */
import type { Clock } from '../ports';
import type { AlertCondition } from './conditions';

/** An alert as stored and as published. */
export interface AlertRecord extends AlertCondition {
  state: 'open' | 'cleared';
  openedAt: string;
  clearedAt: string | null;
  /** The console page of the channel (or the console), when the console URL is known. */
  consoleUrl: string | null;
  /** The announcement not yet confirmed published. */
  pending: 'open' | 'clear' | null;
  /** Until when the evaluator that wrote `pending` may publish it before another takes over. */
  leaseUntil: string | null;
}

/**
 * The alerts' durable state.
 *
 * @example
 * if (await store.open(record)) await publisher.publish([{ type: 'opened', alert: record }]);
 */
export interface AlertStore {
  /** Every record (open, or cleared with the announcement pending). */
  list(): Promise<AlertRecord[]>;
  /** Creates the record unless one with its id exists; false when it did. */
  open(record: AlertRecord): Promise<boolean>;
  /** Marks an open record cleared with `pending: 'clear'`, if it is still open with nothing pending. */
  startClear(record: AlertRecord, clearedAt: string, leaseUntil: string): Promise<boolean>;
  /** Takes over a pending announcement whose lease (`seenLeaseUntil`) has passed. */
  claim(record: AlertRecord, leaseUntil: string): Promise<boolean>;
  /** The announcement was published: an open record loses `pending`, a cleared one is deleted. */
  delivered(record: AlertRecord): Promise<void>;
}

/** One announcement. */
export interface AlertEvent {
  type: 'opened' | 'cleared';
  alert: AlertRecord;
}

/** Where announcements go (EventBridge in AWS and locally the stand-in). */
export interface AlertPublisher {
  /** Publishes the events; answers which were accepted (the rest are retried by the next evaluation). */
  publish(events: AlertEvent[]): Promise<boolean[]>;
}

export interface AlertDeps {
  store: AlertStore;
  publisher: AlertPublisher;
  clock: Clock;
  /** The console's URL (`https://…/`); a channel's page is `<consoleUrl>#/channels/<id>`. */
  consoleUrl?: string | null;
  /** How long a writer may take to publish before another takes over. @default 60 s */
  leaseMs?: number;
}

export interface AlertReport {
  opened: string[];
  cleared: string[];
  /** Announcements published again after a lease passed. */
  retried: string[];
  /** Announcements the publisher refused (left pending). */
  failed: string[];
  /** Alerts open after this evaluation. */
  open: number;
}

/** The console page an alert points to. */
export function consoleLink(consoleUrl: string | null | undefined, channelId: string | null): string | null {
  if (!consoleUrl) return null;
  return channelId ? `${consoleUrl}#/channels/${encodeURIComponent(channelId)}` : consoleUrl;
}

/** One evaluation: fires the conditions that appeared, clears those that ended, retries stuck announcements. */
export async function reconcileAlerts(deps: AlertDeps, conditions: AlertCondition[]): Promise<AlertReport> {
  const now = deps.clock.now();
  const nowIso = now.toISOString();
  const lease = new Date(now.getTime() + (deps.leaseMs ?? 60_000)).toISOString();
  const records = await deps.store.list();
  const byId = new Map(records.map((r) => [r.id, r]));
  const wanted = new Map(conditions.map((c) => [c.id, c]));
  const report: AlertReport = { opened: [], cleared: [], retried: [], failed: [], open: 0 };
  const events: AlertEvent[] = [];

  for (const c of wanted.values()) {
    if (byId.has(c.id)) continue;
    const record: AlertRecord = {
      ...c,
      state: 'open',
      openedAt: nowIso,
      clearedAt: null,
      consoleUrl: consoleLink(deps.consoleUrl, c.channelId),
      pending: 'open',
      leaseUntil: lease,
    };
    if (await deps.store.open(record)) {
      events.push({ type: 'opened', alert: record });
      report.opened.push(c.id);
    }
  }
  for (const r of records) {
    if (r.pending) {
      if (r.leaseUntil && r.leaseUntil > nowIso) continue; // another evaluator is publishing it
      if (await deps.store.claim(r, lease)) {
        events.push({
          type: r.pending === 'open' ? 'opened' : 'cleared',
          alert: { ...r, leaseUntil: lease },
        });
        report.retried.push(r.id);
      }
      continue;
    }
    if (r.state === 'open' && !wanted.has(r.id)) {
      if (await deps.store.startClear(r, nowIso, lease)) {
        const cleared: AlertRecord = {
          ...r,
          state: 'cleared',
          clearedAt: nowIso,
          pending: 'clear',
          leaseUntil: lease,
        };
        events.push({ type: 'cleared', alert: cleared });
        report.cleared.push(r.id);
      }
    }
  }

  if (events.length) {
    let accepted: boolean[];
    try {
      accepted = await deps.publisher.publish(events);
    } catch {
      accepted = events.map(() => false);
    }
    for (const [i, e] of events.entries()) {
      if (accepted[i]) await deps.store.delivered(e.alert);
      else report.failed.push(e.alert.id);
    }
  }
  const stillOpen = new Set(records.filter((r) => r.state === 'open').map((r) => r.id));
  for (const id of report.opened) stillOpen.add(id);
  for (const id of report.cleared) stillOpen.delete(id);
  for (const r of records) if (r.pending === 'clear') stillOpen.delete(r.id);
  report.open = stillOpen.size;
  return report;
}

/** The English one-liner `npm start` prints and an e-mail subject carries. */
export function alertLine(e: AlertEvent): string {
  const a = e.alert;
  const head = e.type === 'opened' ? `ALERT ${a.severity}` : 'CLEARED';
  return `${head} [${a.kind}] ${a.title}${a.consoleUrl ? ` — ${a.consoleUrl}` : ''}`;
}
