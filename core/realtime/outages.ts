/**
 * Outages of the real-time path: windows of time in which the connector knows (or must assume) it
 * missed X Activity API deliveries, and the one replay job per app that fills them (X-API.md §9:
 * `POST /2/webhooks/replay`, up to the last 24 h, one job at a time per webhook, completion signalled
 * by a `replay_job_status` event). Beyond 24 h only polling can bring items back: the affected
 * channels are made due for a poll at once, which reads from their checkpoints (a checkpoint only
 * moves after everything before it is on the inbound queue, so a poll from it covers the gap, within
 * X's read limits: mentions the newest 800, DMs 30 days).
 *
 * What opens a window (each a conditional write, so repeats collapse):
 * - `handler_error`: the webhook answered 5xx (X does not retry v2 deliveries);
 * - `restart`: the watch's previous tick is older than a few ticks (the runtime was down: a local
 *   restart, a stopped schedule, a broken deployment);
 * - `webhook_invalid`: X marked the webhook invalid (it then delivers nothing); re-validated by
 *   `PUT /2/webhooks/:id` and the time since it was last seen valid is replayed;
 * - `quiet`: subscriptions exist and no event has arrived for a long time. X's payloads carry no
 *   sequence number (`event_uuid` is random), so a gap in X's sequence cannot be seen directly; a long
 *   silence is replayed instead (a replay of a quiet hour costs one request and delivers nothing);
 * - `replay_incomplete`: X reported a job `Incomplete`, or no completion came in time;
 * - `sweep` (not an outage): the regular replay of the time since the last sweep, on the same UTC day
 *   (./proof.ts says why: it proves the webhook received every DM, so reconciliation need not read them).
 */
import type { Clock } from '../ports';

export type OutageReason =
  'handler_error' | 'restart' | 'webhook_invalid' | 'quiet' | 'replay_incomplete' | 'sweep';

/** A window of possibly missed deliveries, by the time X created the events. */
export interface OutageWindow {
  /** Stable key of the window (its start and reason). */
  key: string;
  from: string;
  to: string;
  reason: OutageReason;
}

/** The app's replay job (at most one). */
export interface ReplayJob {
  /** Ours, written before X is asked: a crash between the claim and X's answer leaves a job to time out. */
  claimId: string;
  /** X's `job_id` once X accepted the job. */
  jobId: string | null;
  from: string;
  to: string;
  startedAt: string;
  reasons: OutageReason[];
}

/** App-wide marks the watch keeps. */
export interface RealtimeMarks {
  /** Last time a verified delivery arrived (written at most about once a minute per process). */
  lastEventAt: string | null;
  /** Last watch tick. */
  lastTickAt: string | null;
  /** Last time the watch saw the webhook valid at X. */
  webhookValidAt: string | null;
  /** Where the quiet rule last replayed up to. */
  quietCheckedTo: string | null;
  /** Where the last sweep window ends (./proof.ts). */
  sweptTo: string | null;
  /** When a reconciliation that compared every channel with X's subscription list listed it (./proof.ts). */
  subscriptionsListedAt: string | null;
}

/**
 * The proven span (./proof.ts): every event X created in [`from`, `to`) reached the webhook and was
 * queued, shown by replay jobs X reported `Complete` that follow each other without a gap.
 */
export interface ProvenSpan {
  from: string;
  to: string;
}

/**
 * The durable state (DynamoDB in production: adapters/aws/dynamo-realtime-state.ts).
 *
 * @example
 * await state.openOutage({ from, to, reason: 'handler_error' });
 * if (await state.claimJob(job)) { ... } // false: another job runs (one at a time per app)
 */
export interface RealtimeStateStore {
  /** Records a window; an existing window with the same start and reason is widened, never narrowed. */
  openOutage(window: { from: Date; to: Date; reason: OutageReason }): Promise<void>;
  /** Every recorded window, oldest first (strongly consistent). */
  outages(): Promise<OutageWindow[]>;
  /** Forgets windows (they are now in a job); a window widened since it was read stays. */
  removeOutages(windows: OutageWindow[]): Promise<void>;
  /** The running job, if any. */
  currentJob(): Promise<ReplayJob | null>;
  /** Takes the app's one job slot; false when a job is already recorded. */
  claimJob(job: ReplayJob): Promise<boolean>;
  /** Sets X's job id on our claim; false when the claim is gone (timed out and taken over). */
  setJobId(claimId: string, jobId: string): Promise<boolean>;
  /** Ends the job whose X id or claim id matches; the job ended, or null when it was not the current one. */
  endJob(match: { jobId?: string; claimId?: string }): Promise<ReplayJob | null>;
  marks(): Promise<RealtimeMarks>;
  /** Moves a mark forward (never back). */
  advanceMark(name: keyof RealtimeMarks, at: Date): Promise<void>;
  /** The proven span, or null when none is recorded. */
  proven(): Promise<ProvenSpan | null>;
  /**
   * Adds a completed replay's [from, to) to the proven span: extends it when they touch or overlap,
   * starts a new one when a gap lies between (never moves it back).
   */
  extendProven(from: Date, to: Date): Promise<void>;
}

/** X's replay time format: UTC `yyyymmddhhmm`. */
export function xMinute(at: Date): string {
  return at.toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

const MINUTE = 60_000;
export const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
export const ceilMinute = (ms: number) => Math.ceil(ms / MINUTE) * MINUTE;

/** How far back X replays (X-API.md §9). */
export const REPLAY_LIMIT_MS = 24 * 3_600_000;

/** A gap cut at X's replay limit: the part X can replay and the part only polling can fill. */
export interface ReplayPlan {
  /** Minutes to ask X for (both inclusive), or null when all of the gap is beyond the limit. */
  replay: { from: Date; to: Date } | null;
  /** Start of the part older than the limit, or null. */
  backfillFrom: Date | null;
}

/**
 * Plans one replay for the union of `windows` at `now`: from the oldest start to the newest end, cut
 * at the 24 h limit (less `marginMs`, as the request reaches X a little later), `to` never past the
 * current minute. Gaps between windows are replayed too (one job at a time; the ledger drops what
 * was already delivered, and same-day replays are not billed again).
 */
export function planReplay(windows: Array<{ from: string; to: string }>, now: Date, marginMs = 2 * MINUTE) {
  if (!windows.length) return null;
  const from = Math.min(...windows.map((w) => Date.parse(w.from)));
  const to = Math.max(...windows.map((w) => Date.parse(w.to)));
  const limit = ceilMinute(now.getTime() - REPLAY_LIMIT_MS + marginMs);
  const last = floorMinute(now.getTime());
  const replayFrom = Math.max(floorMinute(from), limit);
  const replayTo = Math.min(ceilMinute(to), last);
  const plan: ReplayPlan = {
    replay: replayFrom <= replayTo ? { from: new Date(replayFrom), to: new Date(replayTo) } : null,
    backfillFrom: from < limit ? new Date(from) : null,
  };
  return plan;
}

/**
 * Opens a `handler_error` window around a failed delivery: the events it carried were created a
 * moment before (X's delivery delay is sub-second; two minutes either side cover clock skew).
 */
export async function recordHandlerError(state: RealtimeStateStore, clock: Clock): Promise<void> {
  const now = clock.now().getTime();
  await state.openOutage({
    from: new Date(floorMinute(now - 2 * MINUTE)),
    to: new Date(ceilMinute(now + MINUTE)),
    reason: 'handler_error',
  });
}
