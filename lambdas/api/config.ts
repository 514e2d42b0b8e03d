/**
 * Environment of the admin API function (STYLE.md §7), parsed once at cold start.
 */
import * as z from 'zod/mini';
import { X_TIER_NAMES, type XTier } from '../../core/inbound/planner';
import {
  baseEnvSchema,
  costEnvSchema,
  envInt,
  parseEnv,
  realtimeEnvSchema,
  xEnvSchema,
} from '../shared/config';

const origin = z.pipe(
  z
    .url()
    .check(
      z.refine(
        (u) => new URL(u).origin === u.replace(/\/$/, ''),
        'must be an origin (scheme://host[:port]) without a path',
      ),
    ),
  z.transform((u: string) => new URL(u).origin),
);

export const apiEnvSchema = z.object({
  ...baseEnvSchema.shape,
  ...xEnvSchema.shape,
  ...realtimeEnvSchema.shape,
  /**
   * The X API plan: whether channels get X Activity API subscriptions (not on free, basic, pro), and the
   * poll cadence the cost surface's AWS model assumes (core/cost/report.ts).
   */
  X_TIER: z._default(z.enum(X_TIER_NAMES as [XTier, ...XTier[]]), 'pay-per-use'),
  /**
   * The only origin the OAuth callback page posts its result to. Omitted → the callback's own origin,
   * which is where the console is served (`GET /` of the same API) in AWS and locally.
   */
  CONSOLE_ORIGIN: z.optional(origin),
  /** The redirect URI registered at X. Omitted → `<request origin>/oauth/callback`. */
  OAUTH_REDIRECT_URI: z.optional(z.url()),
  /**
   * `strict`: the authorize call sets an HttpOnly cookie whose hash the state record keeps, and the
   * callback refuses a browser without it, so a sign-in link forwarded to someone else cannot connect
   * their account. `off` only for setups whose console is on another site than the API.
   */
  OAUTH_BROWSER_BINDING: z._default(z.enum(['strict', 'off']), 'strict'),
  /** Poll-jobs queue: a channel that has just signed in is polled at once instead of at the next tick. */
  POLL_JOBS_QUEUE_URL: z.optional(z.url()),
  /**
   * A Cognito group the admin routes require in the token's `cognito:groups` (the HTTP API's JWT
   * authorizer checks the token, not the groups). Unset → every user of the pool is an admin.
   */
  ADMIN_GROUP: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u,
          'must be a Cognito group name (1-128 characters, no spaces)',
        ),
      ),
  ),
  /** Largest accepted request body. */
  MAX_BODY_BYTES: envInt(16_384, 1024, 1_048_576),
  ...costEnvSchema.shape,
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;

/** Parses the api's environment once at cold start; throws `ConfigError` naming every bad variable. */
export const loadConfig = (env: Record<string, string | undefined>): ApiConfig => parseEnv(apiEnvSchema, env);
