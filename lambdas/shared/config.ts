/**
 * Environment configuration, validated once at cold start (STYLE.md §7). Each entry point declares a
 * zod schema over `process.env` and a `loadConfig(env)` over `parseEnv`, which lists every bad variable by name and never echoes values.
 */
import * as z from 'zod/mini';
import '../../contracts'; // sets zod/mini's English messages (z.config(en()))
import { applyPriceOverride, X_PRICES } from '../../core/cost/prices';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const optionalUrl = z.optional(z.url());
const nonEmpty = () => z.string().check(z.minLength(1));

/** A whole number from an environment string, at least `min` (and at most `max`), or `fallback` when unset. */
export const envInt = (fallback: number, min = 1, max?: number) =>
  z._default(
    z.pipe(z.coerce.number(), z.int().check(z.gte(min), ...(max === undefined ? [] : [z.lte(max)]))),
    fallback,
  );

/** Variables every function shares. Endpoint overrides are set only for local runs. */
export const baseEnvSchema = z.object({
  AWS_REGION: nonEmpty(),
  TABLE_NAME: nonEmpty(),
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'debug', 'info', 'warn', 'error']), 'INFO'),
  /** Local runs only: the DynamoDB, SQS, Secrets Manager and S3 stand-ins. */
  XC_DYNAMODB_ENDPOINT: optionalUrl,
  XC_SQS_ENDPOINT: optionalUrl,
  XC_SECRETS_ENDPOINT: optionalUrl,
  XC_S3_ENDPOINT: optionalUrl,
});

/** Variables of the functions that talk to X. */
export const xEnvSchema = z.object({
  /** Origin of the X API; the simulated X locally. */
  X_API_BASE_URL: z._default(z.url(), 'https://api.x.com'),
  /** X's browser authorize page (X-API.md §1). */
  X_AUTHORIZE_URL: z._default(z.url(), 'https://x.com/i/oauth2/authorize'),
  /** Secrets Manager id of the X app credentials: JSON `{ "clientId", "clientSecret" }`. */
  X_APP_SECRET_ID: nonEmpty(),
  /** Prefix of the per-channel token secrets, e.g. `x-channel/tokens/`. */
  TOKEN_SECRET_PREFIX: z._default(nonEmpty(), 'x-channel/tokens/'),
  /** KMS key for new token secrets (AWS only; the stand-in encrypts with its own key). */
  TOKEN_KMS_KEY_ID: z.optional(z.string()),
});

/** Variables of the functions that publish inbound messages (the poller, the webhook). */
export const deliveredEnvSchema = z.object({
  /**
   * How long the delivered ledger remembers an item per channel (core/inbound/delivered.ts): longer than
   * any path can bring the same item again — X's replay reaches 24 h back, reconciliation polls of DMs
   * may run daily.
   */
  DELIVERED_TTL_HOURS: z._default(z.coerce.number().check(z.positive(), z.lte(24 * 30)), 96),
});

/** Variables of the functions that keep channels' X Activity API subscriptions (the api, the dispatcher). */
export const realtimeEnvSchema = z.object({
  /**
   * The deployment's `/x/webhook` URL, as registered at X: subscriptions are made for that webhook.
   * Unset: the app's only webhook (if it has exactly one).
   */
  WEBHOOK_PUBLIC_URL: optionalUrl,
  /** The app-wide subscription cap; unset: 1,500 on pay-per-use (X's self-serve limit), none above. */
  XAA_SUBSCRIPTION_LIMIT: z.optional(z.pipe(z.coerce.number(), z.int().check(z.gte(0), z.lte(10_000_000)))),
});

/** Variables of the functions that use the media bucket (the poller stores DM media, the sender reads outbound media). */
export const mediaEnvSchema = z.object({
  /** The media bucket's name (stack output `MediaBucketName`; locally `local.json` `buckets.media`). */
  MEDIA_BUCKET: nonEmpty(),
  /**
   * Lifetime of the presigned GET URLs put in inbound DM attachments, in seconds: 1 hour to 7 days
   * (S3's limit). A URL signed with a function's temporary credentials ends when they do, whatever
   * this says (docs/deploy.md).
   */
  MEDIA_URL_TTL_SECONDS: envInt(6 * 3600, 3600, 7 * 24 * 3600),
  /** Largest DM attachment downloaded from X, in bytes (X's own limit for DM video is 512 MB). */
  MEDIA_MAX_BYTES: envInt(100 * 1024 * 1024, 1),
  /**
   * Time allowed for one attachment's download from X, in ms; never more than what is left of the poll's
   * time budget (POLL_TIME_BUDGET_MS, inside the poller's 30-second timeout).
   */
  MEDIA_DOWNLOAD_TIMEOUT_MS: envInt(10_000, 1000),
});

/** Variables of the spend meter (core/cost/): price overrides and Owned Reads. */
export const costEnvSchema = z.object({
  /**
   * Price overrides in USD as JSON, e.g. `{"reads":{"postRead":0.006}}` (core/cost/prices.ts), for when
   * X changes a price before the table in code does.
   */
  XC_X_PRICES: z.optional(
    z.string().check(
      z.refine((v) => {
        try {
          applyPriceOverride(X_PRICES, v);
          return true;
        } catch {
          return false;
        }
      }, 'must be JSON {"reads"|"writes"|"events": {name: USD}} with known names and prices 0–100'),
    ),
  ),
  /** The X user id that owns the developer app: its own timeline reads are Owned Reads ($0.001). */
  X_APP_OWNER_USER_ID: z.optional(z.string().check(z.regex(/^[0-9]{1,19}$/))),
});

/** The poller's reconciliation cadence while a stream arrives by webhook (core/inbound/planner.ts). */
export const reconcileEnvSchema = z.object({
  /** Minutes between mention polls of a channel whose mentions arrive by webhook. */
  XAA_RECONCILE_MENTIONS_MINUTES: envInt(15, 1, 1440),
  /** Minutes between DM polls of a channel whose DMs arrive by webhook (X re-bills once per UTC day). */
  XAA_RECONCILE_DMS_MINUTES: envInt(360, 2, 10_080),
  /** First DM page of such a poll: what an idle poll re-reads (and X re-bills once a day). */
  XAA_RECONCILE_DM_PAGE_SIZE: envInt(1, 1, 100),
  /** At 100 % of a monthly X budget: minutes between mention polls (the floor; core/cost/budget-floor.ts). */
  BUDGET_FLOOR_MENTIONS_MINUTES: envInt(60, 1, 10_080),
  /** At 100 % of a monthly X budget: minutes between DM polls. */
  BUDGET_FLOOR_DMS_MINUTES: envInt(1440, 1, 10_080),
  /** How old the poller's budget verdict may get before a poll re-reads it (one DynamoDB request). */
  BUDGET_CHECK_SECONDS: envInt(300, 30, 86_400),
});

/** Parses `env` with `schema`; throws `ConfigError` naming every bad variable (never its value). */
export function parseEnv<S extends z.core.$ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = z.safeParse(schema, env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const name = i.path.join('.') || '(env)';
    return i.code === 'invalid_type' && env[name] === undefined
      ? `${name} is required`
      : `${name} is invalid (${i.message})`;
  });
  throw new ConfigError([...new Set(problems)]);
}
