/**
 * The spend meter: what X will bill, counted by the connector itself (X's `GET /2/usage/tweets` reports
 * post reads only, X-API.md §9), per channel and UTC day, and what that means for the month.
 *
 * One invocation (a poll job, an outbound command, a webhook delivery) collects its billable items in
 * a {@link SpendCollector} and writes them with ONE ledger call at its end (a poll: inside its own final
 * write; an outbound command: inside its completion, adapters/aws/dynamo-write-ride.ts; so the meter
 * costs either no request):
 * ```
 * X answer ─> billablesOfCall ─> collector (memory) ─┐
 * XAA event delivered ─> billableOfEvent ────────────┴─> ledger.record (one DynamoDB request):
 *      per resource "billed today" markers (conditional) + the channel's day counter + the app's month counter
 * ```
 * X bills a resource once per UTC day per app, so the markers are app-wide and keyed by day: a resource
 * read again the same day (a DM page re-read, a webhook duplicate, a same-day replay) is not counted
 * again, and one read on a later day is. A crash between X's answer and the ledger write loses that
 * invocation's items (the meter under-counts, never doubles); a failed ledger write is logged and
 * counted by the caller, never retried into a double count.
 */
import type { PricedItem } from './billable';

/** One UTC day of a channel's metered spend. */
export interface SpendDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  micros: number;
  /** Billed resources / requests / events per category (`postRead`, `reply`, `ev:dm.received`, …). */
  counts: Record<string, number>;
}

/** The app-wide month, summed over every channel (and events no channel holds). */
export interface SpendMonth {
  month: string;
  micros: number;
  counts: Record<string, number>;
}

export interface SpendRecorded {
  /** µUSD counted now. */
  micros: number;
  /** Items counted now. */
  counted: number;
  /** Items X had already billed today (not counted again). */
  duplicates: number;
}

/**
 * Durable spend counters.
 *
 * @example
 * await ledger.record('ch_7k2m', new Date(), [{ category: 'postRead', micros: 5000, dedupKey: 'postRead:1890' }]);
 * (await ledger.days('ch_7k2m', '2026-12')).reduce((s, d) => s + d.micros, 0); // 5000
 */
export interface SpendLedger {
  /** Counts the items of one invocation on `at`'s UTC day; resources already billed that day are dropped. */
  record(channelId: string, at: Date, items: PricedItem[]): Promise<SpendRecorded>;
  /** The channel's day counters of a UTC month (`YYYY-MM`), oldest first; days without spend are absent. */
  days(channelId: string, month: string): Promise<SpendDay[]>;
  /** The app's counters of a UTC month. */
  appMonth(month: string): Promise<SpendMonth>;
}

/** Where events no channel holds are counted (X still bills them). */
export const UNROUTED_CHANNEL = '_unrouted';

export const utcDay = (at: Date) => at.toISOString().slice(0, 10);
export const utcMonth = (at: Date) => at.toISOString().slice(0, 7);

/** The UTC month `at` falls in: its start, its end and the share of it that has passed. */
export function monthWindow(at: Date) {
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return {
    month: utcMonth(at),
    start: new Date(start),
    end: new Date(end),
    daysInMonth: Math.round((end - start) / 86_400_000),
    elapsedShare: Math.min(1, Math.max(0, (at.getTime() - start) / (end - start))),
  };
}

/**
 * Items collected per channel and UTC day during one invocation; flushed once. The day is the one X
 * answered on (`at` of `add`), so a poll running over midnight counts each read on X's billing day.
 */
export class SpendCollector {
  private readonly byChannel = new Map<string, { channelId: string; at: Date; items: PricedItem[] }>();

  add(channelId: string, items: PricedItem[], at?: Date): void {
    if (!items.length) return;
    const key = `${channelId}|${at ? utcDay(at) : ''}`;
    const group = this.byChannel.get(key);
    if (group) group.items.push(...items);
    else this.byChannel.set(key, { channelId, at: at ?? new Date(NaN), items: [...items] });
  }

  /** Moves what was collected for `from` to `to` (a channel learnt only when the work ended). */
  rename(from: string, to: string): void {
    for (const [key, group] of [...this.byChannel]) {
      if (group.channelId !== from) continue;
      this.byChannel.delete(key);
      const at = Number.isNaN(group.at.getTime()) ? undefined : group.at;
      this.add(to, group.items, at);
    }
  }

  /**
   * The oldest group of `channelId` (the day it was answered on; undefined when the add gave none),
   * for a write that takes a prefix of it along (`drop` removes that prefix once written).
   */
  first(channelId: string): { key: string; at: Date | undefined; items: readonly PricedItem[] } | undefined {
    for (const [key, group] of this.byChannel) {
      if (group.channelId !== channelId) continue;
      return { key, at: Number.isNaN(group.at.getTime()) ? undefined : group.at, items: group.items };
    }
    return undefined;
  }

  /** Removes the first `count` items of a group `first` named (items added since stay). */
  drop(key: string, count: number): void {
    const group = this.byChannel.get(key);
    if (!group) return;
    group.items.splice(0, count);
    if (!group.items.length) this.byChannel.delete(key);
  }

  get size(): number {
    let n = 0;
    for (const group of this.byChannel.values()) n += group.items.length;
    return n;
  }

  /** Writes what was collected (one ledger call per channel seen) and empties the collector. */
  async flush(ledger: SpendLedger, at: Date): Promise<SpendRecorded> {
    const total: SpendRecorded = { micros: 0, counted: 0, duplicates: 0 };
    const groups = [...this.byChannel.values()];
    this.byChannel.clear();
    for (const { channelId, at: answeredAt, items } of groups) {
      const r = await ledger.record(channelId, Number.isNaN(answeredAt.getTime()) ? at : answeredAt, items);
      total.micros += r.micros;
      total.counted += r.counted;
      total.duplicates += r.duplicates;
    }
    return total;
  }
}

/** Sums day counters. */
export function sumDays(days: SpendDay[]): { micros: number; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  let micros = 0;
  for (const d of days) {
    micros += d.micros;
    for (const [k, v] of Object.entries(d.counts)) counts[k] = (counts[k] ?? 0) + v;
  }
  return { micros, counts };
}

/**
 * Month-to-date → projected month: the month so far, run on at the pace of the days measured (at least
 * one day's worth of time, so the first hours of a month do not project a spike to the whole month).
 */
export function projectMonth(mtd: number, at: Date): number {
  const w = monthWindow(at);
  const elapsedDays = Math.max(1, w.elapsedShare * w.daysInMonth);
  if (elapsedDays >= w.daysInMonth) return mtd;
  return (mtd / elapsedDays) * w.daysInMonth;
}
