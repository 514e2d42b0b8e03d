/**
 * Environment of the poller (STYLE.md §7), parsed once at cold start; a bad variable is named.
 */
import * as z from 'zod/mini';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import {
  baseEnvSchema,
  costEnvSchema,
  deliveredEnvSchema,
  envInt,
  mediaEnvSchema,
  parseEnv,
  realtimeEnvSchema,
  reconcileEnvSchema,
  xEnvSchema,
} from '../shared/config';

export const pollerEnvSchema = z.object({
  ...baseEnvSchema.shape,
  ...xEnvSchema.shape,
  /** The inbound FIFO queue (x-channel.inbound.v1). */
  INBOUND_QUEUE_URL: z.url(),
  /** The X API plan: decides the steady poll cadence per endpoint (X-API.md §3). */
  X_TIER: z._default(z.enum(X_TIER_NAMES as [XTier, ...XTier[]]), 'pay-per-use'),
  /** Pages per stream and run (mentions: 100 per page; X serves the newest 800 only). */
  POLL_MAX_PAGES: envInt(10),
  /** Time one poll may spend, retries included; below the Lambda timeout (30 s). */
  POLL_TIME_BUDGET_MS: envInt(20_000),
  /** Poll lease; at least the poll-jobs visibility timeout (adapters/aws/queues.ts: 120 s). */
  POLL_LEASE_MS: envInt(120_000),
  /** Our own cap on follows per channel and UTC day (auto-follow). */
  FOLLOW_DAILY_CAP: envInt(50),
  ...deliveredEnvSchema.shape,
  ...costEnvSchema.shape,
  ...realtimeEnvSchema.shape,
  ...reconcileEnvSchema.shape,
  ...mediaEnvSchema.shape,
  /** The media bucket for inbound DM media; unset (older local harnesses): DM attachments are delivered unavailable. */
  MEDIA_BUCKET: z.optional(z.string().check(z.minLength(1))),
});

export type PollerConfig = z.infer<typeof pollerEnvSchema>;

/** Parses the poller's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): PollerConfig =>
  parseEnv(pollerEnvSchema, env);
