/** The sender's dependencies, tunables and the delivery facts it reads (core/outbound/send.ts). */
import type { BudgetGuard } from '../cost/budget';
import type { ChannelStore, Clock, TokenProvider } from '../ports';
import type { AppBudget, IdempotencyStore, SendHealthStore, XWriterFactory } from './ports';
import type { MediaPolicy, MediaSource } from './media';
import type { RecentBlocks } from './rate-gate';

/** Tunables of the sender; defaults in {@link DEFAULT_SENDER_SETTINGS}. */
export interface SenderSettings {
  /** How long a claimed record is protected; must exceed one X call (timeout 10 s) with margin, and stay below the queue's visibility timeout. */
  leaseSeconds: number;
  /** How long a command for a paused channel waits before the next look. */
  pausedRecheckSeconds: number;
  /** How long a command for a paused channel is held in total before `channel_not_ready`. */
  pausedMaxHoldSeconds: number;
  /** First back-off after X was unavailable; doubles per receive. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** SQS allows at most 12 h of visibility. */
  maxDelaySeconds: number;
  /** The outbound queue's maxReceiveCount: on that receive a result is emitted instead of another retry. */
  maxReceiveCount: number;
  /** Wait after a 429 whose reset is not after our clock (clocks disagree): one standard X window. */
  rateLimitFallbackSeconds: number;
}

export const DEFAULT_SENDER_SETTINGS: SenderSettings = {
  leaseSeconds: 60,
  pausedRecheckSeconds: 900,
  pausedMaxHoldSeconds: 7200,
  backoffBaseSeconds: 10,
  backoffMaxSeconds: 900,
  maxDelaySeconds: 12 * 3600,
  maxReceiveCount: 10,
  rateLimitFallbackSeconds: 900,
};

export interface SenderDeps {
  clock: Clock;
  channels: ChannelStore;
  idempotency: IdempotencyStore;
  budget: AppBudget;
  /** Monthly X spend budgets (core/cost/budget.ts): used up → `budget_exhausted`, X not called. */
  spendBudget?: BudgetGuard;
  tokens: TokenProvider;
  writerFor: XWriterFactory;
  /** The channel's health: rate-limit state (read back from the channel before each call), counters. */
  health: SendHealthStore;
  /** Where `mediaUrls` may point, and how the objects are read (./media.ts). */
  media: { policy: MediaPolicy; source: MediaSource };
  /** Rate-limit blocks this process stored, kept in memory too (see {@link RecentBlocks}). */
  recentBlocks: RecentBlocks;
  /** A fresh random id per attempt (fencing token of the idempotency record). */
  newAttemptId: () => string;
  settings: SenderSettings;
  /** Observability hook: constant event names with safe fields (no text, no tokens). */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
}

/** How the queue message was delivered (from SQS attributes). */
export interface Delivery {
  /** ApproximateReceiveCount, 1 on the first receive. */
  receiveCount: number;
  /** When the message was first enqueued (SentTimestamp). */
  sentAt: Date;
}
