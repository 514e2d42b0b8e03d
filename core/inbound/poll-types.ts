/** The inputs, tunables and outcome of one poll (core/inbound/poll.ts). */
import type { BudgetFloor, BudgetSnapshotReader } from '../cost/budget-floor';
import type { ChannelError } from '../errors';
import type { ChannelStore, Clock, TokenProvider } from '../ports';
import { DEFAULT_FOLLOW_DAILY_CAP } from './auto-follow';
import type { ReconcileCadence, XTier } from './planner';
import type { Channel } from '../channel';
import type { RealtimeProofReader } from '../realtime/proof';
import type { RecentRateBlocks } from './rate-blocks';
import type { InboundMediaStore } from './dm-media';
import type { FollowStore, InboundPublisher, PollStateStore, XReaderFactory } from './types';

/** Bounds of one poll run. */
export interface PollLimits {
  maxMentionPages: number;
  maxDmPages: number;
  /** First DM page size: small, because an idle poll re-reads (and X may bill) the newest events. */
  dmIdlePageSize: number;
  /** Wall time a run may spend (retries included); below the Lambda timeout. */
  timeBudgetMs: number;
  /** Poll lease length: at least the poll-jobs visibility timeout, so a redelivered job finds it expired. */
  leaseMs: number;
  followDailyCap: number;
  /** After a 403 "not in your plan" on a read endpoint: retry that long after (unless the admin acts). */
  accessRetryMs: number;
  /** After 402 credits depleted / monthly usage cap: slow retry. */
  billingRetryMs: number;
}

export const DEFAULT_POLL_LIMITS: PollLimits = {
  maxMentionPages: 10,
  maxDmPages: 10,
  dmIdlePageSize: 10,
  timeBudgetMs: 20_000,
  leaseMs: 120_000,
  followDailyCap: DEFAULT_FOLLOW_DAILY_CAP,
  accessRetryMs: 24 * 3600_000,
  billingRetryMs: 3600_000,
};

/** Minimal logger port (the Powertools logger fits it). */
export interface PollLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface PollDeps {
  clock: Clock;
  channels: ChannelStore;
  state: PollStateStore;
  tokens: TokenProvider;
  openX: XReaderFactory;
  publisher: InboundPublisher;
  /** Absent: auto-follow never runs. */
  follows?: FollowStore;
  /**
   * DM media into the media bucket (./dm-media.ts); `store` absent (no bucket configured) or the whole
   * field absent: DM attachments are delivered unavailable (`not_configured`).
   */
  media?: { store?: InboundMediaStore; maxBytes: number; timeoutMs: number };
  tier: XTier;
  limits?: Partial<PollLimits>;
  /** Turns a foreign error into a ChannelError (the X adapter maps its own). */
  toChannelError?: (e: unknown) => ChannelError;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: PollLog;
  /**
   * 429 blocks this process has seen (one per cold start): they still hold when storing them failed
   * together with the rest of the poll (rate-blocks.ts). Absent: only the stored blocks count.
   */
  rateBlocks?: RecentRateBlocks;
  /**
   * Real time (X Activity API): streams a channel receives by webhook are polled at `cadence` only, and
   * `repair` (never throws) re-creates the channel's missing subscriptions with its token, beside the poll.
   * Absent: every channel is polled at its tier's cadence.
   */
  realtime?: {
    cadence: ReconcileCadence;
    repair?: (channel: Channel) => Promise<void>;
    /**
     * The app-wide real-time proof (core/realtime/proof.ts), read before the claim: a DM poll of a
     * channel whose DMs are proven delivered by the webhook skips the read. Absent: DM polls read.
     */
    proof?: RealtimeProofReader;
  };
  /**
   * Monthly X budgets (core/cost/budget-floor.ts): at 100 % reconciliation polls slow to `floor`; the
   * verdict is re-read (`read`, one request) at most every `checkSeconds`. Absent: budgets never slow polls.
   */
  budget?: { read: BudgetSnapshotReader; floor: BudgetFloor; checkSeconds: number };
}

export interface PollJobInput {
  channelId: string;
  /** Claim owner: the same for every delivery of one SQS message (its message id). */
  owner: string;
  /** ISO time of the dispatcher tick; the next poll is planned from it (absent: now). */
  tick?: string;
  /** `gsi1sk` as the dispatcher saw it; absent: read before claiming. */
  dueAt?: string;
}

export interface PollError {
  endpoint: string;
  code: string;
  kind: string;
}

export interface PollOutcome {
  status: 'polled' | 'skipped';
  /** Why skipped: `channel_not_found`, `not_pollable`, `not_due`, `lease_held`, `needs_reauth`. */
  reason?: string;
  mentionsDelivered: number;
  dmsDelivered: number;
  followed: number;
  errors: PollError[];
  nextPollAt?: string;
  /** The channel is degraded after this run (some feature refused by X). */
  degraded: boolean;
}
