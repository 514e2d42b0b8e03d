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
});

export type DispatcherConfig = z.infer<typeof dispatcherEnvSchema>;

/** Parses the dispatcher's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): DispatcherConfig =>
  parseEnv(dispatcherEnvSchema, env);
