/**
 * Environment of the poller (STYLE.md §7), parsed once at cold start; a bad variable is named.
 */
import { z } from 'zod';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import { baseEnvSchema, deliveredEnvSchema, parseEnv, xEnvSchema } from '../shared/config';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const pollerEnvSchema = baseEnvSchema.extend(xEnvSchema.shape).extend({
  /** The inbound FIFO queue (x-channel.inbound.v1). */
  INBOUND_QUEUE_URL: z.url(),
  /** The X API plan: decides the steady poll cadence per endpoint (X-API.md §3). */
  X_TIER: z.enum(X_TIER_NAMES as [XTier, ...XTier[]]).default('pay-per-use'),
  /** Pages per stream and run (mentions: 100 per page; X serves the newest 800 only). */
  POLL_MAX_PAGES: positiveInt(10),
  /** Time one poll may spend, retries included; below the Lambda timeout (30 s). */
  POLL_TIME_BUDGET_MS: positiveInt(20_000),
  /** Poll lease; at least the poll-jobs visibility timeout (adapters/aws/queues.ts: 120 s). */
  POLL_LEASE_MS: positiveInt(120_000),
  /** Our own cap on follows per channel and UTC day (auto-follow). */
  FOLLOW_DAILY_CAP: positiveInt(50),
  ...deliveredEnvSchema.shape,
});

export type PollerConfig = z.infer<typeof pollerEnvSchema>;

/** Parses the poller's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): PollerConfig =>
  parseEnv(pollerEnvSchema, env);
