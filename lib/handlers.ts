/**
 * The one table of x-channel's Lambda entry points: where each lives, how it is sized, and which
 * environment variables it is given. The CDK construct builds its functions from this table, the local
 * runtime can start the same entries with the same variables, and a CDK test checks that the template
 * sets exactly these variables — so a handler's config schema (lambdas/<fn>/config) and the deployed
 * function cannot silently drift apart.
 *
 * This module must stay free of aws-cdk-lib imports: the local runtime imports it.
 */
import type { BuildOptions } from 'esbuild';
import { esbuildOptions, type EntryBundleOptions } from './bundling';

export type { EntryBundleOptions } from './bundling';

/** Name of a Lambda function of x-channel; also its construct id suffix and its folder under `lambdas/`. */
export type HandlerName = 'api' | 'dispatcher' | 'poller' | 'sender' | 'webhook';

/** How one entry point is deployed. */
export interface HandlerSpec {
  readonly name: HandlerName;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  /** Exported handler function of the entry. */
  readonly exportName: string;
  /** What the function does, for the Lambda console. */
  readonly description: string;
  /** Lambda timeout; queue visibility timeouts are derived from it (≥ 6×, per AWS guidance). */
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /**
   * Variables the construct always sets and the handler's config schema must require.
   * `AWS_REGION` is absent on purpose: Lambda sets it itself and refuses it in a function's config.
   */
  readonly requiredEnv: readonly string[];
  /**
   * Variables the handler accepts with a default; the construct sets some of them (for example
   * `X_TIER`) and leaves the rest unset in AWS (for example `X_API_BASE_URL`, which defaults to real X).
   */
  readonly optionalEnv: readonly string[];
}

/**
 * Variables the construct sets on every function for the runtime and Powertools. Handlers do not need
 * to validate them: Powertools and Node read them directly.
 */
export const PLATFORM_ENV = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'LOG_LEVEL',
  'NODE_OPTIONS',
] as const;

/** Variables a handler may read only when running locally (stand-in endpoints); never set in AWS. */
export const LOCAL_ONLY_ENV = ['XC_DYNAMODB_ENDPOINT', 'XC_SQS_ENDPOINT', 'XC_SECRETS_ENDPOINT'] as const;

/** Every X-talking function may be pointed at another X origin (the simulated X locally). */
const X_OPTIONAL = ['X_API_BASE_URL', 'X_TIER'] as const;

/** The spend meter's price overrides and Owned Reads owner (lambdas/shared/config.ts `costEnvSchema`). */
const COST_OPTIONAL = ['XC_X_PRICES', 'X_APP_OWNER_USER_ID'] as const;

/** The entry points, keyed by name. */
export const HANDLERS: Readonly<Record<HandlerName, HandlerSpec>> = {
  api: {
    name: 'api',
    entry: 'lambdas/api/handler.ts',
    exportName: 'handler',
    description: 'x-channel admin API, OAuth callback and admin console',
    // API Gateway HTTP APIs give up after 30 s; answer (or fail) well before that.
    timeoutSeconds: 15,
    memoryMb: 512,
    requiredEnv: [
      'TABLE_NAME',
      'X_APP_SECRET_ID',
      'TOKEN_SECRET_PREFIX',
      'TOKEN_KMS_KEY_ID',
      'OAUTH_REDIRECT_URI',
      'CONSOLE_ORIGIN',
      'POLL_JOBS_QUEUE_URL',
      // Read by console/serve.ts (the console routes): sign-in through the Cognito hosted UI. Tokens are
      // checked by the HTTP API's JWT authorizer, so the function needs no user pool id.
      'AUTH_MODE',
      'COGNITO_CLIENT_ID',
      'COGNITO_DOMAIN',
    ],
    // CONSOLE_DIST_DIR is read by console/serve.ts (the console routes), not by the API's own schema.
    optionalEnv: [
      ...X_OPTIONAL,
      'X_AUTHORIZE_URL',
      'OAUTH_BROWSER_BINDING',
      'MAX_BODY_BYTES',
      'CONSOLE_DIST_DIR',
      // X Activity API subscriptions per channel (lambdas/shared/realtime.ts)
      'WEBHOOK_PUBLIC_URL',
      'XAA_SUBSCRIPTION_LIMIT',
      'ADMIN_GROUP',
      ...COST_OPTIONAL,
    ],
  },
  dispatcher: {
    name: 'dispatcher',
    entry: 'lambdas/dispatcher/handler.ts',
    exportName: 'handler',
    description: 'x-channel dispatcher: enqueues one poll job per channel that is due',
    // Sized for ~10k channels per tick; a tick must end before the next one starts (1 min default).
    timeoutSeconds: 55,
    memoryMb: 256,
    requiredEnv: ['TABLE_NAME', 'POLL_JOBS_QUEUE_URL'],
    optionalEnv: [
      'X_TIER',
      'DISPATCH_CLAIM_SECONDS',
      'DISPATCH_CONCURRENCY',
      // alerts (core/alerts/), evaluated on the gauge ticks
      'ALERT_EVENT_BUS',
      'ALERT_DEPLOYMENT',
      'CONSOLE_URL',
      'ALERT_SILENCE_HOURS',
      'ALERT_SILENCE_MIN_DAILY',
      'POLL_JOBS_DLQ_URL',
      'INBOUND_DLQ_URL',
      'OUTBOUND_DLQ_URL',
      'RESULTS_DLQ_URL',
    ],
  },
  poller: {
    name: 'poller',
    entry: 'lambdas/poller/handler.ts',
    exportName: 'handler',
    description: 'x-channel poller: reads mentions and DMs of one channel, publishes them inbound',
    timeoutSeconds: 30,
    memoryMb: 512,
    requiredEnv: ['TABLE_NAME', 'INBOUND_QUEUE_URL', 'X_APP_SECRET_ID', 'TOKEN_SECRET_PREFIX'],
    optionalEnv: [
      ...X_OPTIONAL,
      'POLL_LEASE_MS',
      'POLL_MAX_PAGES',
      'POLL_TIME_BUDGET_MS',
      'FOLLOW_DAILY_CAP',
      'DELIVERED_TTL_HOURS',
      ...COST_OPTIONAL,
      // real time: re-creating missing subscriptions, and the slow cadence while a stream has them
      'WEBHOOK_PUBLIC_URL',
      'XAA_SUBSCRIPTION_LIMIT',
      'XAA_RECONCILE_MENTIONS_MINUTES',
      'XAA_RECONCILE_DMS_MINUTES',
      'XAA_RECONCILE_DM_PAGE_SIZE',
      // the reconciliation floor at a used-up monthly X budget (core/cost/budget-floor.ts)
      'BUDGET_FLOOR_MENTIONS_MINUTES',
      'BUDGET_FLOOR_DMS_MINUTES',
      'BUDGET_CHECK_SECONDS',
      // inbound DM media (lambdas/shared/config.ts mediaEnvSchema)
      'MEDIA_BUCKET',
      'MEDIA_URL_TTL_SECONDS',
      'MEDIA_MAX_BYTES',
      'MEDIA_DOWNLOAD_TIMEOUT_MS',
    ],
  },
  sender: {
    name: 'sender',
    entry: 'lambdas/sender/handler.ts',
    exportName: 'handler',
    description: 'x-channel sender: posts outbound replies and DMs to X, reports results',
    timeoutSeconds: 30,
    memoryMb: 512,
    // OUTBOUND_DLQ_URL: a body that can never be a command is moved there with a reason, then acked.
    requiredEnv: [
      'TABLE_NAME',
      'RESULTS_QUEUE_URL',
      'OUTBOUND_DLQ_URL',
      'X_APP_SECRET_ID',
      'TOKEN_SECRET_PREFIX',
    ],
    // OUTBOUND_MAX_RECEIVE_COUNT mirrors the queue's redrive setting (the last receive reports a result).
    optionalEnv: [
      ...X_OPTIONAL,
      'OUTBOUND_MAX_RECEIVE_COUNT',
      'IDEMPOTENCY_TTL_DAYS',
      'X_APP_DM_BUDGET_PER_DAY',
      'X_APP_POST_BUDGET_PER_DAY',
      'PAUSED_MAX_HOLD_SECONDS',
      ...COST_OPTIONAL,
      // outbound media (mediaUrls: s3://<MEDIA_BUCKET>/outbound/<key>, or https:// on the allow-list)
      'MEDIA_BUCKET',
      'OUTBOUND_MEDIA_ALLOWED_ORIGINS',
    ],
  },
  webhook: {
    name: 'webhook',
    entry: 'lambdas/webhook/handler.ts',
    exportName: 'handler',
    description:
      'x-channel webhook: X Activity API CRC and signed events, published inbound; the real-time watch (replay) on its schedule',
    // X wants its 200 within 10 s (X-API.md §7); a slower answer is a failed delivery anyway.
    timeoutSeconds: 10,
    memoryMb: 512,
    // POLL_JOBS_QUEUE_URL: a DM with media is polled at once (adapters/aws/dynamo-dm-poll-request.ts)
    requiredEnv: ['TABLE_NAME', 'INBOUND_QUEUE_URL', 'X_APP_SECRET_ID', 'POLL_JOBS_QUEUE_URL'],
    optionalEnv: [
      'WEBHOOK_PUBLIC_URL',
      'WEBHOOK_MAX_BODY_BYTES',
      'DELIVERED_TTL_HOURS',
      'X_API_BASE_URL',
      'REALTIME_RESTART_GAP_MINUTES',
      'REALTIME_QUIET_MINUTES',
      'REALTIME_REPLAY_TIMEOUT_MINUTES',
      'REALTIME_SWEEP_MINUTES',
      ...COST_OPTIONAL,
      // subscription reconciliation on the watch's ticks (core/realtime/reconcile.ts)
      'X_TIER',
      'XAA_SUBSCRIPTION_LIMIT',
      'XAA_RECONCILE_EVERY_MINUTES',
    ],
  },
};

/** The X API access levels the construct has presets for (X-API.md §3). */
export type XTier = 'free' | 'basic' | 'pro' | 'pay-per-use' | 'enterprise';

/** Per-tier defaults: how often to poll and how many pollers/senders may talk to X at once. */
export interface XTierPreset {
  /** Default minutes between dispatcher ticks. */
  readonly pollIntervalMinutes: number;
  /** Upper bound on concurrent poller invocations (SQS event source maximum concurrency, ≥ 2). */
  readonly pollerMaxConcurrency: number;
  /** Upper bound on concurrent sender invocations. */
  readonly senderMaxConcurrency: number;
}

/**
 * Why these numbers: mentions are the only read on every tick. Free allows 1 mentions call per 15 min
 * per user, Basic 10 per 15 min (one every 1.5 min), Pro/PPU/Enterprise far more (X-API.md §3); DM lookups
 * (15 per 15 min) are spaced by the poller itself. Concurrency bounds the app-wide request rate.
 */
export const X_TIER_PRESETS: Readonly<Record<XTier, XTierPreset>> = {
  free: { pollIntervalMinutes: 15, pollerMaxConcurrency: 2, senderMaxConcurrency: 2 },
  basic: { pollIntervalMinutes: 2, pollerMaxConcurrency: 2, senderMaxConcurrency: 2 },
  pro: { pollIntervalMinutes: 1, pollerMaxConcurrency: 10, senderMaxConcurrency: 5 },
  'pay-per-use': { pollIntervalMinutes: 1, pollerMaxConcurrency: 10, senderMaxConcurrency: 5 },
  enterprise: { pollIntervalMinutes: 1, pollerMaxConcurrency: 20, senderMaxConcurrency: 10 },
};

/** The allowed `xTier` values, in the order the docs list them. */
export const X_TIERS = Object.keys(X_TIER_PRESETS) as XTier[];

/**
 * esbuild options that bundle function `fn` exactly as the CDK construct deploys it (ESM, node22,
 * minified, AWS SDK from the runtime, the size trims of `lib/bundling.ts`), writing `index.mjs` and its
 * source map into `options.outdir`. Pass the result to esbuild's `build()`.
 *
 * @example
 * const result = await build(bundleOptions('sender', { outdir }));
 */
export function bundleOptions(fn: HandlerName, options: EntryBundleOptions): BuildOptions {
  const spec = HANDLERS[fn];
  if (!spec)
    throw new Error(`unknown function "${String(fn)}": expected one of ${Object.keys(HANDLERS).join(', ')}`);
  return esbuildOptions(spec.entry, options);
}
