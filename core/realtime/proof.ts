/**
 * Proof that the webhook received every DM, so that the DM reconciliation poll need not read (and X
 * need not bill again, $0.01 a DM event read per UTC day, X-API.md §4) the DMs real time delivered
 * (issue 16).
 *
 * Why a proof is needed: `GET /2/dm_events` has no since id and bills every event a page returns, and
 * X drops webhook deliveries silently (no sequence number, no retry of v2 deliveries, X-API.md §9), so
 * "the stream looks healthy" says nothing about a dropped DM. Two facts together do:
 * ```
 * app-wide  ── sweep: every hour the watch replays [sweptTo, now − lag] (POST /2/webhooks/replay) ──┐
 *              X says Complete only when every event of the span got a 2xx, and the webhook         │
 *              answers 2xx only after the messages are queued (or held, ./webhook.ts)              │
 *              ─> proven span [from, to): completed replays that follow each other without a gap ───┤
 * per channel ─ its `dm.received` subscription (id S) was held from `since` (recorded when it was    │
 *              created or first seen) and X's list still showed S at `subscriptionsListedAt`        │
 *              (a deleted subscription never comes back with its id) ──────────────────────────────┴─>
 *   every DM of the channel created in [lower, min(proven.to − margin, listedAt)) is on the inbound
 *   queue, when proven.from ≤ lower and since ≤ lower (lower: the channel's DM checkpoint)
 * ```
 * The poll moves the channel's `dmCoveredTo` to that time, and skips the DM read while it is fresh
 * (`decideDmRead`). While the watch does not tick or X holds the webhook invalid, the poll reads at
 * once (from the proof); when a window is open or a replay incomplete, the proven span stops growing,
 * and once it is older than one DM reconciliation interval the poll reads again from the channel's
 * lower bound and delivers what real time missed.
 *
 * Same UTC day: X bills replayed events once per event type and object per UTC day, so a replay on
 * the day of the events costs nothing more; the sweep runs every `everyMs` and once shortly before
 * each UTC midnight. What lies between that last sweep and midnight is replayed on the next day and
 * re-billed (at most `dayEndMs` of events a day).
 *
 * A DM with media is not queued by the webhook (the poller downloads it with the channel's token):
 * the webhook records `dmHold` (its created time) on the channel before it answers 2xx, and a poll
 * with a hold reads from it whatever the proof says, and clears it after a complete read.
 */
import type { HeldSubscription } from '../channel';
import type { ProvenSpan } from './outages';

/** When the watch sweeps (replays the time since the last sweep). */
export interface SweepSettings {
  /** A sweep at least this often; 0 = never (nothing is proven, DM polls read as before). */
  everyMs: number;
  /** A sweep stops this long before now: X has created the events of the span by then. */
  lagMs: number;
  /** The last sweep of a UTC day runs this long before midnight. */
  dayEndMs: number;
}

export const DEFAULT_SWEEP: SweepSettings = {
  everyMs: 60 * 60_000,
  lagMs: 2 * 60_000,
  dayEndMs: 10 * 60_000,
};

const DAY_MS = 86_400_000;

/**
 * The sweep due at `now`: `start` on the first tick (the chain starts then, nothing earlier is
 * claimed), a span to replay, or null.
 *
 * @example
 * dueSweep('2026-12-07T10:00:00.000Z', new Date('2026-12-07T11:03:00Z'), DEFAULT_SWEEP)
 * // { from: 10:00, to: 11:01 }
 */
export function dueSweep(
  sweptTo: string | null,
  now: Date,
  settings: SweepSettings = DEFAULT_SWEEP,
): 'start' | { from: Date; to: Date } | null {
  if (settings.everyMs <= 0) return null;
  const end = now.getTime() - settings.lagMs;
  if (!sweptTo) return 'start';
  const from = Date.parse(sweptTo);
  if (!Number.isFinite(from)) return 'start';
  if (end <= from) return null;
  const midnight = Math.floor(from / DAY_MS) * DAY_MS + DAY_MS;
  const lastOfDay = midnight - settings.dayEndMs;
  const dayEnds = now.getTime() >= lastOfDay && from < lastOfDay - settings.lagMs;
  if (end - from >= settings.everyMs || dayEnds) return { from: new Date(from), to: new Date(end) };
  return null;
}

/** The app-wide facts a poll reads before it claims the channel (one eventually consistent read). */
export interface RealtimeProof {
  proven: ProvenSpan | null;
  /** Last `subscriptionsListedAt`: every channel record reflects X's list of that time. */
  listedAt: string | null;
  /** The watch's last tick (`lastTickAt`) and when it last saw the webhook valid at X. */
  watchAt: string | null;
  webhookValidAt: string | null;
}

/** Real time counts as down when the watch has not ticked, or not seen the webhook valid, for this long. */
export const REALTIME_DOWN_AFTER_MS = 10 * 60_000;

/** Whether the watch runs and saw the webhook valid recently (else DM polls read, whatever is proven). */
export function realtimeUp(proof: RealtimeProof | null, now: Date): boolean {
  const recent = (t: string | null | undefined) =>
    Boolean(t) && now.getTime() - Date.parse(t!) <= REALTIME_DOWN_AFTER_MS;
  return recent(proof?.watchAt) && recent(proof?.webhookValidAt);
}

/** Reads the proof (adapters/aws/dynamo-realtime-state.ts `createDynamoProofReader`). */
export interface RealtimeProofReader {
  read(): Promise<RealtimeProof>;
}

/** A replayed event may carry a time a little after its DM's: the proof stops this much earlier. */
export const PROOF_MARGIN_MS = 60_000;

/**
 * Until when a channel's DMs are proven delivered by real time, or null when nothing beyond `lower`
 * is. Needs the channel's `dm.received` subscription with its `since` (records older than this rule
 * have none until reconciliation fills it).
 */
export function dmProvenTo(input: {
  proof: RealtimeProof | null;
  subscription: HeldSubscription | undefined;
  /** The channel's DM lower bound (ISO): every DM before it is delivered. */
  lower: string;
}): string | null {
  const { proof, subscription } = input;
  if (!proof?.proven || !proof.listedAt || !subscription?.since) return null;
  const lower = Date.parse(input.lower);
  const from = Date.parse(proof.proven.from);
  const since = Date.parse(subscription.since);
  if (!(from <= lower) || !(since <= lower)) return null;
  const to = Math.min(Date.parse(proof.proven.to) - PROOF_MARGIN_MS, Date.parse(proof.listedAt));
  return Number.isFinite(to) && to > lower ? new Date(to).toISOString() : null;
}

/** What a due DM poll of a real-time channel does. */
export interface DmReadPlan {
  /** Nothing to read: every DM up to `floor` is proven delivered and `floor` is fresh. */
  skip: boolean;
  /** The channel's new `dmCoveredTo` (never earlier than the stored one), or null. */
  floor: string | null;
}

/**
 * Skip or read: skip while the proof is fresh (no older than `freshMs`, the DM reconciliation
 * interval), real time is up (`realtimeUp`: the watch ticks and the webhook is valid) and no DM with
 * media waits (`hold`); read otherwise, from the proof when there is one.
 */
export function decideDmRead(input: {
  proof: RealtimeProof | null;
  subscription: HeldSubscription | undefined;
  /** The channel's DM checkpoint time (newest DM the poller delivered) or its start time. */
  checkpointAt: string;
  coveredTo: string | null | undefined;
  hold: string | null | undefined;
  now: Date;
  freshMs: number;
}): DmReadPlan {
  const stored = input.coveredTo ?? null;
  const lower = stored && stored > input.checkpointAt ? stored : input.checkpointAt;
  const proven = dmProvenTo({ proof: input.proof, subscription: input.subscription, lower });
  const floor = proven ?? stored;
  const fresh = proven !== null && input.now.getTime() - Date.parse(proven) <= input.freshMs;
  return { skip: fresh && !input.hold && realtimeUp(input.proof, input.now), floor };
}
