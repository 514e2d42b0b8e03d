/**
 * Environment of the X webhook function (STYLE.md §7), parsed once at cold start.
 */
import * as z from 'zod/mini';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import {
  baseEnvSchema,
  costEnvSchema,
  deliveredEnvSchema,
  envInt,
  parseEnv,
  xEnvSchema,
} from '../shared/config';

export const webhookEnvSchema = z.object({
  ...baseEnvSchema.shape,
  /** Secrets Manager id of the X app credentials; the webhook reads `apiKeySecret` from it. */
  X_APP_SECRET_ID: xEnvSchema.shape.X_APP_SECRET_ID,
  /** The inbound FIFO queue (x-channel.inbound.v1). */
  INBOUND_QUEUE_URL: z.url(),
  /**
   * The poll-jobs queue: a DM with media is polled at once through a job queued here
   * (adapters/aws/dynamo-dm-poll-request.ts); unset: it waits for the dispatcher's next tick.
   */
  POLL_JOBS_QUEUE_URL: z.optional(z.url()),
  /**
   * Largest accepted delivery. X's events are a few KB (a post with its includes); a body far beyond
   * that is refused with 413 before its signature is computed.
   */
  WEBHOOK_MAX_BODY_BYTES: envInt(262_144, 1024, 1_048_576),
  /** Origin of the X API (the watch's webhook, subscription and replay calls). */
  X_API_BASE_URL: xEnvSchema.shape.X_API_BASE_URL,
  /** This deployment's webhook URL as registered at X; unset: the app's only webhook. */
  WEBHOOK_PUBLIC_URL: z.optional(z.url()),
  /** The watch (core/realtime/watch.ts): a previous tick older than this means the runtime was down. */
  REALTIME_RESTART_GAP_MINUTES: envInt(5, 2, 1440),
  /** No event for this long while subscriptions exist → the silence is replayed. */
  REALTIME_QUIET_MINUTES: envInt(60, 5, 1380),
  /** A replay job without X's completion after this long is given up and retried. */
  REALTIME_REPLAY_TIMEOUT_MINUTES: envInt(30, 5, 720),
  /**
   * The sweep (core/realtime/proof.ts): the time since the last one is replayed this often (and before
   * each UTC midnight), proving DMs delivered so that DM reconciliation polls need not re-read them;
   * 0 = no sweep (DM reconciliation reads as before).
   */
  REALTIME_SWEEP_MINUTES: envInt(60, 0, 720),
  ...deliveredEnvSchema.shape,
  ...costEnvSchema.shape,
  /** The X API plan: without the X Activity API (free, basic, pro) reconciliation only records why. */
  X_TIER: z._default(z.enum(X_TIER_NAMES as [XTier, ...XTier[]]), 'pay-per-use'),
  /** The app-wide subscription cap; unset: 1,500 on pay-per-use. */
  XAA_SUBSCRIPTION_LIMIT: z.optional(z.pipe(z.coerce.number(), z.int().check(z.gte(0)))),
  /** Subscription reconciliation (core/realtime/reconcile.ts) runs on watch ticks this many minutes apart. */
  XAA_RECONCILE_EVERY_MINUTES: envInt(15, 1, 1440),
});

export type WebhookConfig = z.infer<typeof webhookEnvSchema>;

/** Parses the webhook's environment; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): WebhookConfig =>
  parseEnv(webhookEnvSchema, env);
