/**
 * Environment of the dispatcher (STYLE.md §7), parsed once at cold start; a bad variable is named.
 */
import { z } from 'zod';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import { baseEnvSchema, parseEnv } from '../shared/config';

export const dispatcherEnvSchema = baseEnvSchema.extend({
  /** The standard poll-jobs queue. */
  POLL_JOBS_QUEUE_URL: z.url(),
  /** Accepted for symmetry with the X functions (the poller plans per tier, not the dispatcher). */
  X_TIER: z.enum(X_TIER_NAMES as [XTier, ...XTier[]]).default('pay-per-use'),
  /**
   * No longer read: the dispatcher stopped claiming channels (the poller's claim does it, see
   * core/inbound/dispatch.ts). Still accepted so that existing deployments' environments parse.
   */
  DISPATCH_CLAIM_SECONDS: z.coerce.number().int().min(30).default(180),
  /** SendMessageBatch calls in flight. */
  DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
});

export type DispatcherConfig = z.infer<typeof dispatcherEnvSchema>;

/** Parses the dispatcher's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): DispatcherConfig =>
  parseEnv(dispatcherEnvSchema, env);
