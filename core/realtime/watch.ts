/**
 * The real-time watch: one tick a minute (the schedule) looks for outages and drives the app's one
 * replay job (./outages.ts says what opens a window). One tick:
 * ```
 * restart? ─> webhook valid at X? (else PUT to re-validate) ─> quiet too long? ─> sweep due? ─┐
 *   job running? ── yes: timed out? → reopen its window ; else wait for replay_job_status
 *               └─ no: windows ─> plan (≤ 24 h: replay ; older: poll backfill) ─> claim ─> POST replay
 * ```
 * Crash points: a claim without X's job id (crash before X answered) times out and its window is
 * reopened; windows are removed only after X accepted the job; X's completion event ends the job
 * (./webhook.ts), `Incomplete` reopens the window. Every step is idempotent, so a retried or
 * overlapping tick re-does nothing twice: the job slot is a conditional write.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports';
import { DEFAULT_SWEEP, dueSweep, type SweepSettings } from './proof';
import {
  planReplay,
  type OutageReason,
  type RealtimeMarks,
  type RealtimeStateStore,
  type ReplayJob,
} from './outages';

/** The `source` of the schedule's input that makes the webhook function run a watch tick. */
export const REALTIME_WATCH_SOURCE = 'x-channel.realtime-watch';

/** The app's webhook as X lists it. */
export interface XWebhook {
  id: string;
  url: string;
  valid: boolean;
}

/** What the watch asks X, with the app-only bearer token (adapters/x/x-webhooks.ts). */
export interface XWebhooksApi {
  list(): Promise<XWebhook[]>;
  /** `PUT /2/webhooks/:id` (X runs a CRC now); true when X answered valid. */
  revalidate(id: string): Promise<boolean>;
  /** Whether the app holds any XAA subscription on this webhook. */
  hasSubscriptions(webhookId: string): Promise<boolean>;
  /** `POST /2/webhooks/replay`; `conflict` when X already runs a job for the webhook. */
  replay(webhookId: string, from: Date, to: Date): Promise<{ jobId: string } | 'conflict'>;
}

/** Makes the real-time channels due for a poll now (their polls read from their checkpoints). */
export interface PollBackfill {
  requestBackfill(from: Date): Promise<number>;
}

/**
 * Shows "catching up since …" on the channels (their `realtimeCatchingUpSince`, which the health and
 * the console read): `since` null clears it. Called only when the value changes.
 */
export interface CatchingUpMarker {
  /** What the channels show now (kept app-wide, so a tick writes the channels only on a change). */
  shown(): Promise<string | null>;
  show(since: string | null): Promise<void>;
}

export interface WatchSettings {
  /** A previous tick older than this means the runtime was down. */
  restartGapMs: number;
  /** No event for this long while subscriptions exist → replay the silence. */
  quietMs: number;
  /** A job without X's completion after this long is given up and its window reopened. */
  jobTimeoutMs: number;
  /** The regular replay that proves DMs delivered (./proof.ts); `everyMs` 0 = none. */
  sweep: SweepSettings;
}

export const DEFAULT_WATCH_SETTINGS: WatchSettings = {
  restartGapMs: 5 * 60_000,
  quietMs: 60 * 60_000,
  jobTimeoutMs: 30 * 60_000,
  sweep: DEFAULT_SWEEP,
};

export interface WatchDeps {
  state: RealtimeStateStore;
  x: XWebhooksApi;
  backfill: PollBackfill;
  /** Where "catching up since" is shown; absent: only reported. */
  catchingUp?: CatchingUpMarker;
  clock: Clock;
  /** Our webhook's URL; when unset, the app's only webhook. */
  webhookUrl?: string;
  settings?: Partial<WatchSettings>;
}

/** What one tick saw and did (counts and times only). */
export interface WatchReport {
  webhook: 'valid' | 'revalidated' | 'invalid' | 'absent';
  opened: OutageReason[];
  /** The sweep window this tick opened (./proof.ts; not an outage). */
  swept: { from: string; to: string } | null;
  /** The job started by this tick. */
  started: { from: string; to: string; jobId: string } | null;
  /** X already runs a job (409): the windows wait for the next tick. */
  conflict: boolean;
  timedOut: boolean;
  backfillFrom: string | null;
  backfillChannels: number;
  /** Oldest time still being caught up (a running job's start or an open window's), else null. */
  catchingUpSince: string | null;
}

/**
 * "catching up since": the running job's start, else the oldest open window's. A sweep (./proof.ts)
 * is routine, not a known gap: a job or window only of sweeps does not count.
 */
export async function catchingUpSince(state: RealtimeStateStore): Promise<string | null> {
  const job = await state.currentJob();
  const windows = (await state.outages()).filter((w) => w.reason !== 'sweep');
  const gapJob = job && job.reasons.some((r) => r !== 'sweep');
  const starts = [...(gapJob ? [job.from] : []), ...windows.map((w) => w.from)].sort();
  return starts[0] ?? null;
}

/** One watch tick. Throws on a read/write failure (the next tick redoes the work). */
export async function runRealtimeWatch(deps: WatchDeps): Promise<WatchReport> {
  const settings = {
    ...DEFAULT_WATCH_SETTINGS,
    ...deps.settings,
    sweep: { ...DEFAULT_SWEEP, ...deps.settings?.sweep },
  };
  const { state, x, clock } = deps;
  const now = clock.now();
  const nowMs = now.getTime();
  const report: WatchReport = {
    webhook: 'absent',
    opened: [],
    swept: null,
    started: null,
    conflict: false,
    timedOut: false,
    backfillFrom: null,
    backfillChannels: 0,
    catchingUpSince: null,
  };
  const open = async (from: string | Date, reason: OutageReason) => {
    const start = new Date(from);
    if (start.getTime() >= nowMs) return;
    await state.openOutage({ from: start, to: now, reason });
    report.opened.push(reason);
  };
  const marks: RealtimeMarks = await state.marks();

  // 1. the runtime was down: everything since the last tick may be missing
  if (marks.lastTickAt && nowMs - Date.parse(marks.lastTickAt) > settings.restartGapMs)
    await open(marks.lastTickAt, 'restart');
  await state.advanceMark('lastTickAt', now);

  // 2. our webhook at X: invalid → re-validate, and replay since it was last seen valid
  const hooks = await x.list();
  const hook = deps.webhookUrl ? hooks.find((h) => h.url === deps.webhookUrl) : hooks[0];
  if (hook) {
    if (hook.valid) report.webhook = 'valid';
    else if (await x.revalidate(hook.id)) {
      report.webhook = 'revalidated';
      // never seen valid: X keeps 24 h of events, the plan cuts the window there
      await open(marks.webhookValidAt ?? new Date(0), 'webhook_invalid');
    } else report.webhook = 'invalid';
    if (report.webhook !== 'invalid') await state.advanceMark('webhookValidAt', now);

    // 3. a long silence while subscriptions exist
    const quietSince = [marks.lastEventAt, marks.quietCheckedTo].filter(Boolean).sort().pop();
    if (
      report.webhook !== 'invalid' &&
      quietSince &&
      nowMs - Date.parse(quietSince) > settings.quietMs &&
      (await x.hasSubscriptions(hook.id))
    ) {
      await open(quietSince, 'quiet');
      await state.advanceMark('quietCheckedTo', now);
    } else if (!quietSince) await state.advanceMark('quietCheckedTo', now);

    // 3b. the sweep: replay the time since the last one, on the same UTC day (./proof.ts)
    const sweep = dueSweep(marks.sweptTo, now, settings.sweep);
    if (sweep === 'start') await state.advanceMark('sweptTo', new Date(nowMs - settings.sweep.lagMs));
    else if (sweep && report.webhook !== 'invalid') {
      await state.openOutage({ from: sweep.from, to: sweep.to, reason: 'sweep' });
      await state.advanceMark('sweptTo', sweep.to);
      report.swept = { from: sweep.from.toISOString(), to: sweep.to.toISOString() };
    }
  }

  // 4. the one job: wait for it, or give it up after the timeout
  const job = await state.currentJob();
  if (job) {
    if (nowMs - Date.parse(job.startedAt) <= settings.jobTimeoutMs) {
      report.catchingUpSince = await catchingUpSince(state);
      await showCatchingUp(deps, report.catchingUpSince);
      return report;
    }
    const ended = await state.endJob({ claimId: job.claimId });
    if (ended) {
      await state.openOutage({
        from: new Date(ended.from),
        to: new Date(ended.to),
        reason: 'replay_incomplete',
      });
      report.timedOut = true;
    }
  }

  // 5. a new job for every open window
  const windows = await state.outages();
  const plan = planReplay(windows, now);
  if (plan && hook && report.webhook !== 'invalid') {
    if (plan.backfillFrom) {
      report.backfillFrom = plan.backfillFrom.toISOString();
      report.backfillChannels = await deps.backfill.requestBackfill(plan.backfillFrom);
    }
    if (!plan.replay) {
      await state.removeOutages(windows);
    } else {
      const claim: ReplayJob = {
        claimId: randomUUID(),
        jobId: null,
        from: plan.replay.from.toISOString(),
        to: plan.replay.to.toISOString(),
        startedAt: now.toISOString(),
        reasons: [...new Set(windows.map((w) => w.reason))],
      };
      if (await state.claimJob(claim)) {
        let answer: { jobId: string } | 'conflict';
        try {
          answer = await x.replay(hook.id, plan.replay.from, plan.replay.to);
        } catch (e) {
          await state.endJob({ claimId: claim.claimId });
          throw e;
        }
        if (answer === 'conflict') {
          await state.endJob({ claimId: claim.claimId });
          report.conflict = true;
        } else {
          await state.setJobId(claim.claimId, answer.jobId);
          await state.removeOutages(windows);
          report.started = { from: claim.from, to: claim.to, jobId: answer.jobId };
        }
      }
    }
  }
  report.catchingUpSince = await catchingUpSince(state);
  await showCatchingUp(deps, report.catchingUpSince);
  return report;
}

async function showCatchingUp(deps: WatchDeps, since: string | null) {
  if (!deps.catchingUp) return;
  if ((await deps.catchingUp.shown()) !== since) await deps.catchingUp.show(since);
}

/**
 * X's `replay_job_status` event (a body of its own, not an XAA event): ends our job when the ids
 * match; `Incomplete` reopens its window for the next tick. Unknown job ids are ignored (a job we gave up).
 */
export async function onReplayStatus(
  state: RealtimeStateStore,
  status: { job_id: string; job_state: string },
): Promise<'ended' | 'reopened' | 'unknown_job'> {
  if (status.job_state === 'Complete') {
    // every event of [from, to) reached the webhook with a 2xx (X's `to` minute is inclusive; the
    // proof stops at its start). Before the job ends: should this write fail, the job times out and
    // its window is replayed again (./proof.ts)
    const current = await state.currentJob();
    if (current && current.jobId === status.job_id)
      await state.extendProven(new Date(current.from), new Date(current.to));
  }
  const job = await state.endJob({ jobId: status.job_id });
  if (!job) return 'unknown_job';
  if (status.job_state === 'Complete') return 'ended';
  await state.openOutage({ from: new Date(job.from), to: new Date(job.to), reason: 'replay_incomplete' });
  return 'reopened';
}
