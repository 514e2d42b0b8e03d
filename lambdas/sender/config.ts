/**
 * Environment of the sender (STYLE.md §7). Parsed once at cold start; a bad variable is named.
 */
import * as z from 'zod/mini';
import { originOf } from '../../core/outbound/media';
import { baseEnvSchema, costEnvSchema, envInt, parseEnv, xEnvSchema } from '../shared/config';

export const senderEnvSchema = z.object({
  ...baseEnvSchema.shape,
  ...xEnvSchema.shape,
  /** Standard queue the results go to (one `x-channel.result.v1` per command). */
  RESULTS_QUEUE_URL: z.url(),
  /** The outbound queue's DLQ: bodies that can never be a command are moved there with a `reason` attribute. */
  OUTBOUND_DLQ_URL: z.url(),
  /** Plan preset name; accepted for symmetry with the other X functions. */
  X_TIER: z.optional(z.string()),
  /** Days an idempotency record is kept (DynamoDB TTL). */
  IDEMPOTENCY_TTL_DAYS: envInt(7),
  /** App-wide X budgets per UTC day (X-API.md §3). */
  X_APP_DM_BUDGET_PER_DAY: envInt(1440),
  X_APP_POST_BUDGET_PER_DAY: envInt(10_000),
  /** How long a command for a paused channel is held before `channel_not_ready`. */
  PAUSED_MAX_HOLD_SECONDS: envInt(7200),
  /** The outbound queue's maxReceiveCount (adapters/aws/queues.ts); on that receive a result replaces a retry. */
  OUTBOUND_MAX_RECEIVE_COUNT: envInt(10),
  ...costEnvSchema.shape,
  /** The media bucket: `mediaUrls` are `s3://<MEDIA_BUCKET>/outbound/<key>` (set by the stack and npm start). */
  MEDIA_BUCKET: z.optional(z.string().check(z.minLength(1))),
  /**
   * `https://` origins (comma-separated, e.g. `https://cdn.example.com`) whose URLs `mediaUrls` may name
   * besides the bucket; empty by default. Each must be an https origin without path.
   */
  OUTBOUND_MEDIA_ALLOWED_ORIGINS: z.optional(
    z.string().check(
      z.refine(
        (v) =>
          v
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean)
            .every((o) => /^https:\/\/[^/?#@\s]+$/.test(o) && originOf(o) === o.toLowerCase()),
        { message: 'a comma-separated list of https origins (https://host[:port], no path)' },
      ),
    ),
  ),
});

export type SenderConfig = z.infer<typeof senderEnvSchema>;

/** Parses the sender's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): SenderConfig =>
  parseEnv(senderEnvSchema, env);
