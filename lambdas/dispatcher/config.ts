/**
 * Environment of the dispatcher (STYLE.md §7), parsed once at cold start; a bad variable is named.
 */
import * as z from 'zod/mini';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import { baseEnvSchema, envInt, parseEnv } from '../shared/config';

export const dispatcherEnvSchema = z.object({
  ...baseEnvSchema.shape,
  /** The standard poll-jobs queue. */
  POLL_JOBS_QUEUE_URL: z.url(),
  /** Accepted for symmetry with the X functions (the poller plans per tier, not the dispatcher). */
  X_TIER: z._default(z.enum(X_TIER_NAMES as [XTier, ...XTier[]]), 'pay-per-use'),
  /**
   * No longer read: the dispatcher stopped claiming channels (the poller's claim does it, see
   * core/inbound/dispatch.ts). Still accepted so that existing deployments' environments parse.
   */
  DISPATCH_CLAIM_SECONDS: envInt(180, 30),
  /** SendMessageBatch calls in flight. */
  DISPATCH_CONCURRENCY: envInt(32, 1, 256),
  /** Alerts (core/alerts/): the bus their events go to, a name or ARN (`default`: the account's default bus). */
  ALERT_EVENT_BUS: z._default(z.string().check(z.minLength(1)), 'default'),
  /** The deployment's name in each alert event's `detail.deployment` (the construct's path); unset: `TABLE_NAME`. */
  ALERT_DEPLOYMENT: z.optional(z.string().check(z.minLength(1))),
  /** The admin console's URL: every alert links to its channel's page there. */
  CONSOLE_URL: z.optional(z.url()),
  /** Hours without inbound on a usually busy channel before `inbound_silent`. */
  ALERT_SILENCE_HOURS: envInt(6, 1, 168),
  /** Inbound items a day (14-day average) a channel needs for `inbound_silent` to apply to it. */
  ALERT_SILENCE_MIN_DAILY: envInt(10, 1, 1_000_000),
  /** Dead-letter queues watched by `dlq_not_empty` (each optional). */
  POLL_JOBS_DLQ_URL: z.optional(z.url()),
  INBOUND_DLQ_URL: z.optional(z.url()),
  OUTBOUND_DLQ_URL: z.optional(z.url()),
  RESULTS_DLQ_URL: z.optional(z.url()),
  /** Local runs only: the EventBridge stand-in. */
  XC_EVENTBRIDGE_ENDPOINT: z.optional(z.url()),
});

export type DispatcherConfig = z.infer<typeof dispatcherEnvSchema>;

/** Parses the dispatcher's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): DispatcherConfig =>
  parseEnv(dispatcherEnvSchema, env);
