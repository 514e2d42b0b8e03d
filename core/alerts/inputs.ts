/**
 * What the alert evaluator reads, and how little: per evaluation one paginated Query of the channel list
 * (the gauges' read, shared), one BatchGet (the app's budget and month counters, the real-time watch's
 * marks), one Query of the open alerts, one Query per channel that has a budget, one Query per silence
 * candidate per UTC day (its usual traffic, remembered for the day) and a GetQueueAttributes per DLQ.
 * Once per deployment, when the app's list of budgeted channels is not marked complete (a deployment
 * upgraded from before the list existed), `listBudgetedChannels` finds and records them (docs/alerts.md).
 *
 * "Usually has traffic" is learned from the spend meter's day counters (adapters/aws/dynamo-spend.ts):
 * the items X billed as read or delivered for the channel — post reads, DM event reads, webhook events —
 * on each of the last 14 full UTC days (fewer for a channel connected since), averaged per day.
 */
import { budgetStatus, type BudgetStatus } from '../cost/report';
import { toUsd } from '../cost/prices';
import { utcDay, utcMonth, type SpendDay } from '../cost/meter';
import { silenceCandidates, type AlertInputs, type AlertSettings, type ChannelSnapshot } from './conditions';

export const TRAFFIC_DAYS = 14;

/** The reads behind {@link AlertInputs}. */
export interface AlertSources {
  /** Every channel (the list index). */
  channels(): Promise<ChannelSnapshot[]>;
  /** The app's budget, month spend, channels with a budget and the real-time watch's marks. */
  app(month: string): Promise<{
    budgetUsd: number | null;
    monthMicros: number;
    budgetedChannels: string[];
    /** Whether `budgetedChannels` is known to hold every channel budget (false on an upgraded deployment until backfilled). */
    budgetsListed: boolean;
    webhook: { validAt: string | null; lastTickAt: string | null } | null;
  }>;
  /**
   * Once per deployment, when `budgetsListed` is false: which of these channels have a budget; records them
   * in the app's list (a set union, never dropping a concurrent `PATCH`) and marks the list complete.
   */
  listBudgetedChannels(channelIds: string[], at: string): Promise<string[]>;
  /** A channel's budget and its day counters from `fromDay` (inclusive) on. */
  channelDays(channelId: string, fromDay: string): Promise<{ budgetUsd: number | null; days: SpendDay[] }>;
  /** Messages on each dead-letter queue. */
  dlqs(): Promise<Array<{ queue: string; messages: number }>>;
}

/** Inbound-like counter categories: items X billed as read for, or delivered to, the channel. */
export function inboundCount(day: Pick<SpendDay, 'counts'>): number {
  let n = 0;
  for (const [category, count] of Object.entries(day.counts)) {
    if (
      category === 'postRead' ||
      category === 'ownedRead' ||
      category === 'dmEventRead' ||
      category.startsWith('ev:')
    )
      n += count;
  }
  return n;
}

/** Average inbound items a day over the full UTC days in [today − 14, today) since the channel's sign-in. */
export function usualDailyInbound(days: SpendDay[], now: Date, connectedAt: string | null): number {
  const today = utcDay(now);
  const first = utcDay(new Date(now.getTime() - TRAFFIC_DAYS * 86_400_000));
  const connectedDay = connectedAt ? utcDay(new Date(connectedAt)) : first;
  const from = connectedDay > first ? connectedDay : first;
  const span = Math.max(
    1,
    Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000),
  );
  const total = days.filter((d) => d.day >= from && d.day < today).reduce((n, d) => n + inboundCount(d), 0);
  return total / span;
}

/** Usual traffic per channel, remembered per UTC day (one lookup per candidate and day). */
export type TrafficMemory = Map<string, { day: string; perDay: number }>;

/** Reads everything the conditions need. */
export async function gatherAlertInputs(
  sources: AlertSources,
  now: Date,
  settings: AlertSettings,
  memory: TrafficMemory,
): Promise<AlertInputs> {
  const month = utcMonth(now);
  const today = utcDay(now);
  const monthStart = `${month}-01`;
  const trafficFrom = utcDay(new Date(now.getTime() - TRAFFIC_DAYS * 86_400_000));
  const fromDay = trafficFrom < monthStart ? trafficFrom : monthStart;
  const [channels, app, dlqs] = await Promise.all([sources.channels(), sources.app(month), sources.dlqs()]);
  const known = new Map(channels.map((c) => [c.id, c]));
  const candidates = silenceCandidates({ now, channels, settings }).filter(
    (id) => memory.get(id)?.day !== today,
  );
  // a deployment upgraded from before the list existed: find its budgets once (then 0 extra requests a tick)
  const budgeted = app.budgetsListed
    ? app.budgetedChannels
    : [
        ...app.budgetedChannels,
        ...(await sources.listBudgetedChannels(
          channels.map((c) => c.id),
          now.toISOString(),
        )),
      ];
  const lookups = [...new Set([...budgeted.filter((id) => known.has(id)), ...candidates])];
  const budgets = new Map<string, BudgetStatus>();
  const dailyInbound = new Map<string, number>();
  // a handful at a time: a deployment with many budgets must not burst the table
  for (let i = 0; i < lookups.length; i += 8) {
    await Promise.all(
      lookups.slice(i, i + 8).map(async (id) => {
        const { budgetUsd, days } = await sources.channelDays(id, fromDay);
        if (budgetUsd !== null) {
          const micros = days.filter((d) => d.day.startsWith(month)).reduce((n, d) => n + d.micros, 0);
          budgets.set(id, budgetStatus(budgetUsd, toUsd(micros)));
        }
        memory.set(id, {
          day: today,
          perDay: usualDailyInbound(days, now, known.get(id)?.connectedAt ?? null),
        });
      }),
    );
  }
  for (const c of channels) {
    const hit = memory.get(c.id);
    if (hit?.day === today) dailyInbound.set(c.id, hit.perDay);
  }
  if (memory.size > 50_000) memory.clear();
  return {
    now,
    channels,
    budgets: {
      app: app.budgetUsd === null ? null : budgetStatus(app.budgetUsd, toUsd(app.monthMicros)),
      channels: budgets,
    },
    webhook: app.webhook,
    dlqs,
    dailyInbound,
    settings,
  };
}
