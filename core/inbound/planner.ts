/**
 * Poll planning: how often each endpoint may be read so that a channel stays inside X's rate-limit
 * windows, evenly spread (X-API.md §3 and "What this means for the connector" §4).
 *
 * Two inputs decide the next call of an endpoint:
 * 1. the tier's window (static): `planPollInterval` turns it into a steady cadence that keeps a
 *    share of the window free for paging and retries;
 * 2. the last `x-rate-limit-*` headers (dynamic): never sooner than the remaining calls spread evenly
 *    over what is left of the window, and never before the reset once nothing remains (or after a 429).
 */
import type { RateWindow } from '../channel';

/** X API plans (same names as the simulated X and the CDK presets). */
export type XTier = 'free' | 'basic' | 'pro' | 'pay-per-use' | 'enterprise' | 'unlimited';
export const X_TIER_NAMES: readonly XTier[] = [
  'free',
  'basic',
  'pro',
  'pay-per-use',
  'enterprise',
  'unlimited',
];

export const MENTIONS_ENDPOINT = 'GET /2/users/:id/mentions';
export const DM_EVENTS_ENDPOINT = 'GET /2/dm_events';
export const FOLLOW_ENDPOINT = 'POST /2/users/:id/following';

/** A per-user window: `limit` calls per `windowSeconds`. */
export interface TierWindow {
  limit: number;
  windowSeconds: number;
}

/** The read windows of one tier; `null` = the endpoint is not in the plan. */
export interface TierWindows {
  mentions: TierWindow | null;
  dms: TierWindow | null;
}

const M15 = 900;
const H24 = 86_400;

/** Per-user read windows per tier (X-API.md §3: the current table, and the legacy tiers' snapshot). */
export const TIER_WINDOWS: Record<XTier, TierWindows> = {
  free: { mentions: { limit: 1, windowSeconds: M15 }, dms: null },
  basic: { mentions: { limit: 10, windowSeconds: M15 }, dms: { limit: 1, windowSeconds: H24 } },
  pro: { mentions: { limit: 300, windowSeconds: M15 }, dms: { limit: 15, windowSeconds: M15 } },
  'pay-per-use': { mentions: { limit: 300, windowSeconds: M15 }, dms: { limit: 15, windowSeconds: M15 } },
  enterprise: { mentions: { limit: 300, windowSeconds: M15 }, dms: { limit: 15, windowSeconds: M15 } },
  // the simulator's "no limits" plan: poll at the dispatcher's cadence
  unlimited: {
    mentions: { limit: 1_000_000, windowSeconds: M15 },
    dms: { limit: 1_000_000, windowSeconds: M15 },
  },
};

/** The dispatcher ticks once a minute: no endpoint is planned more often than that. */
export const MIN_INTERVAL_SECONDS = 60;
/** Share of a window a steady poll cadence may use; the rest is room for paging and retries. */
export const WINDOW_SHARE = { mentions: 0.8, dms: 0.5 } as const;

/** Steady seconds between polls of each endpoint, or `null` when the plan has no access. */
export interface PollIntervals {
  mentionsSeconds: number | null;
  dmsSeconds: number | null;
}

function intervalFor(window: TierWindow | null, share: number): number | null {
  if (!window) return null;
  // a window of 1 call (Basic DMs: 1/24 h) is used once per window; otherwise leave `1 - share` free
  const usable = Math.max(1, Math.floor(window.limit * share));
  return Math.max(MIN_INTERVAL_SECONDS, Math.ceil(window.windowSeconds / usable));
}

/**
 * Steady poll cadence for a tier's windows, e.g. Basic mentions 10/15 min → every 113 s; DMs
 * 15/15 min → every 129 s; Basic DMs 1/24 h → once a day.
 *
 * @example
 * planPollInterval(TIER_WINDOWS.basic) // { mentionsSeconds: 113, dmsSeconds: 86400 }
 */
export function planPollInterval(windows: TierWindows): PollIntervals {
  return {
    mentionsSeconds: intervalFor(windows.mentions, WINDOW_SHARE.mentions),
    dmsSeconds: intervalFor(windows.dms, WINDOW_SHARE.dms),
  };
}

/** `planPollInterval` for every tier (for the benchmark table and the docs). */
export function pollIntervalsByTier(): Record<XTier, PollIntervals> {
  return Object.fromEntries(X_TIER_NAMES.map((t) => [t, planPollInterval(TIER_WINDOWS[t])])) as Record<
    XTier,
    PollIntervals
  >;
}

/** The dispatcher's ticks drift by a few seconds: a poll planned for "one interval after the tick"
 * is made due this much earlier, so the tick one interval later still finds it due. */
export function tickSlackMs(intervalSeconds: number): number {
  return Math.min(15_000, (intervalSeconds * 1000) / 4);
}

/**
 * When an endpoint may be called next, after a call at `now` for the dispatcher tick `tick`.
 * - steady cadence: one interval after the TICK that scheduled this poll, minus a small slack
 *   (`tickSlackMs`), so that the next tick one interval later finds the channel due. Planning from
 *   `now` instead (a few hundred ms after the tick) lands just after that next tick, and the channel
 *   is polled every other tick. A job handled long after its tick (redelivery) still waits at least
 *   half an interval from `now`, so calls are never bunched;
 * - headers say nothing remains: not before the reset (+1 s for clock skew);
 * - otherwise at least the rest of the window divided evenly among the remaining calls.
 */
export function nextCallAt(
  now: Date,
  intervalSeconds: number,
  observed?: RateWindow,
  tick: Date = now,
): Date {
  const intervalMs = intervalSeconds * 1000;
  const fromTick = Math.min(tick.getTime(), now.getTime()) + intervalMs - tickSlackMs(intervalSeconds);
  let at = Math.max(fromTick, now.getTime() + intervalMs / 2);
  if (observed) {
    const resetMs = Date.parse(observed.resetAt);
    if (Number.isFinite(resetMs) && resetMs > now.getTime()) {
      if (observed.remaining <= 0) at = Math.max(at, resetMs + 1000);
      else at = Math.max(at, now.getTime() + Math.ceil((resetMs - now.getTime()) / observed.remaining));
    }
  }
  return new Date(at);
}

/** The channel's next poll: the earliest time any endpoint it reads is due; `fallbackSeconds` when none is. */
export function nextPollAt(now: Date, endpointTimes: Array<Date | null>, fallbackSeconds = 3600): Date {
  const times = endpointTimes.filter((t): t is Date => t !== null).map((t) => t.getTime());
  const earliest = times.length ? Math.min(...times) : now.getTime() + fallbackSeconds * 1000;
  // never schedule in the past: a due-now channel is picked up at the next tick anyway
  return new Date(Math.max(earliest, now.getTime()));
}

/** X's rate windows are 15 minutes (X-API.md §3): the wait after a 429 whose reset we cannot trust. */
export const RATE_LIMIT_FALLBACK_SECONDS = 900;

/**
 * Until when an endpoint is blocked after a 429 at `now`: X's advertised reset when it lies after our
 * clock; otherwise (no reset, or one not after `now`: X and we disagree about the time, and X said
 * "not now") one standard window from now, like the sender's rate gate.
 */
export function blockAfter429(reset: Date | undefined, now: Date): Date {
  if (reset && Number.isFinite(reset.getTime()) && reset.getTime() > now.getTime()) return reset;
  return new Date(now.getTime() + RATE_LIMIT_FALLBACK_SECONDS * 1000);
}

/**
 * Reconciliation cadence while a stream arrives by webhook (X Activity API): polls only fill what the
 * webhook missed (deeper thread replies without an @mention, dropped deliveries), so they run slowly.
 * DMs: X re-bills the events a poll returns once per UTC day (X-API.md §4), so with DMs in real time
 * the first page of a poll is one event (`dmIdlePageSize`) and the cadence a few per day: an idle
 * channel is re-billed at most one event a day.
 */
export interface ReconcileCadence {
  mentionsSeconds: number;
  dmsSeconds: number;
  dmIdlePageSize: number;
}

/*
 * DM reconciliation and X's re-billing (issue 16): `GET /2/dm_events` has no since id and X bills every
 * event a page returns (X-API.md §2, §4), and XAA drops are silent (§9), so only a read or a replay can
 * notice a dropped DM. The poll therefore skips the DM read only while real time *proves* every DM
 * delivered — the watch's same-UTC-day sweep replays plus the channel's subscription continuity
 * (core/realtime/proof.ts) — and reads from that proof otherwise.
 */
export const DEFAULT_RECONCILE_CADENCE: ReconcileCadence = {
  mentionsSeconds: 15 * 60,
  dmsSeconds: 6 * 3600,
  dmIdlePageSize: 1,
};

/**
 * The poll intervals of a channel: the tier's, slowed to the reconciliation cadence for each stream the
 * channel receives by webhook (`realtime.mentions` / `realtime.dms`). Without real time: unchanged.
 *
 * @example
 * withRealtime({ mentionsSeconds: 60, dmsSeconds: 129 }, { mentions: true, dms: false }, DEFAULT_RECONCILE_CADENCE)
 * // { mentionsSeconds: 900, dmsSeconds: 129 }
 */
export function withRealtime(
  intervals: PollIntervals,
  realtime: { mentions: boolean; dms: boolean } | undefined,
  cadence: ReconcileCadence = DEFAULT_RECONCILE_CADENCE,
): PollIntervals {
  if (!realtime) return intervals;
  const slow = (tier: number | null, on: boolean, seconds: number) =>
    tier === null || !on ? tier : Math.max(tier, seconds);
  return {
    mentionsSeconds: slow(intervals.mentionsSeconds, realtime.mentions, cadence.mentionsSeconds),
    dmsSeconds: slow(intervals.dmsSeconds, realtime.dms, cadence.dmsSeconds),
  };
}
