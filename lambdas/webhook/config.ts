/**
 * Environment of the X webhook function (STYLE.md §7), parsed once at cold start.
 */
import * as z from 'zod/mini';
import { baseEnvSchema, deliveredEnvSchema, envInt, parseEnv, xEnvSchema } from '../shared/config';

export const webhookEnvSchema = z.object({
  ...baseEnvSchema.shape,
  /** Secrets Manager id of the X app credentials; the webhook reads `apiKeySecret` from it. */
  X_APP_SECRET_ID: xEnvSchema.shape.X_APP_SECRET_ID,
  /** The inbound FIFO queue (x-channel.inbound.v1). */
  INBOUND_QUEUE_URL: z.url(),
  /**
   * Largest accepted delivery. X's events are a few KB (a post with its includes); a body far beyond
   * that is refused with 413 before its signature is computed.
   */
  WEBHOOK_MAX_BODY_BYTES: envInt(262_144, 1024, 1_048_576),
  ...deliveredEnvSchema.shape,
});

export type WebhookConfig = z.infer<typeof webhookEnvSchema>;

/** Parses the webhook's environment; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): WebhookConfig =>
  parseEnv(webhookEnvSchema, env);
