/**
 * Builds the sender's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the local
 * runtime, integration tests and the benchmark all call this; only endpoints (and, in tests, the clock)
 * differ. The record loop: ./app.ts.
 */
import { randomUUID } from 'node:crypto';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoAppBudget } from '../../adapters/aws/dynamo-app-budget';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoIdempotencyStore } from '../../adapters/aws/dynamo-idempotency';
import { createDynamoSendHealth } from '../../adapters/aws/dynamo-send-health';
import { QUEUES } from '../../adapters/aws/queues';
import { createSqsResultsPublisher } from '../../adapters/aws/sqs-results-publisher';
import { createXWriterFactory } from '../../adapters/x/x-writer';
import { createS3MediaReader } from '../../adapters/aws/s3-media-source';
import { s3ClientFromConfig } from '../../adapters/aws/s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createHttpsMediaReader } from '../../adapters/http/https-media-source';
import { permanent } from '../../core/errors';
import type { MediaPolicy, MediaSource } from '../../core/outbound/media';
import { DEFAULT_SENDER_SETTINGS, type SenderDeps } from '../../core/outbound/send';
import type { ResultsPublisher } from '../../core/outbound/ports';
import { RecentBlocks } from '../../core/outbound/rate-gate';
import { systemClock, type Clock, type TokenProvider } from '../../core/ports';
import { logger as sharedLogger } from '../shared/logger';
import { createDynamoBudgetSnapshotReader } from '../../adapters/aws/dynamo-spend-budgets';
import { createBudgetGuard } from '../../core/cost/budget';
import { composeSpendMeter, type SpendMeter } from '../shared/spend';
import { composeTokenProvider, registering } from '../shared/tokens';
import type { SenderConfig } from './config';
import type { XTier } from '../../core/inbound/planner';
import { stoppingRealtimeOnReauth } from '../../core/realtime/reauth-stop';
import { composeRealtime } from '../shared/realtime';
import {
  createSqsOutboundQueueControl,
  type OutboundQueueControl,
} from '../../adapters/aws/sqs-outbound-queue-control';

/** Everything one sender invocation needs. */
export interface SenderRuntime {
  deps: SenderDeps;
  results: ResultsPublisher;
  queue: OutboundQueueControl;
  /** What the sends cost at X (core/cost/meter.ts). */
  spend?: SpendMeter;
}

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  tokens?: TokenProvider;
  /** Counts X requests (tests, benchmark). */
  onXRequest?: (info: { method: string; path: string }) => void;
  /** Per-call X timeout (default 10 s). */
  xTimeoutMs?: number;
  /** Waits between media STATUS polls (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** The media bucket's client (tests pass one signed for their S3 stand-in). */
  s3?: S3Client;
}

/** The keys the sender's grant reads and the case system's `grantPutOutboundMedia` writes. */
export const OUTBOUND_MEDIA_PREFIX = 'outbound/';

/** `mediaUrls` policy and reader from the config: the bucket (outbound prefix) and the https allow-list. */
export function composeMedia(
  config: SenderConfig,
  client?: S3Client,
): { policy: MediaPolicy; source: MediaSource } {
  const policy: MediaPolicy = {
    bucket: config.MEDIA_BUCKET ?? null,
    keyPrefix: OUTBOUND_MEDIA_PREFIX,
    allowedOrigins: (config.OUTBOUND_MEDIA_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  };
  // The S3 client is built only when a bucket is configured (the runtime provides the SDK).
  const s3 = policy.bucket ? createS3MediaReader(client ?? s3ClientFromConfig(config)) : null;
  const https = createHttpsMediaReader();
  const noBucket = () => permanent('media_source_not_allowed', 'no media bucket is configured');
  return {
    policy,
    source: {
      head: (ref) =>
        ref.source === 'https' ? https.head(ref) : s3 ? s3.head(ref) : Promise.reject(noBucket()),
      read: (ref, start, end) =>
        ref.source === 'https'
          ? https.read(ref, start, end)
          : s3
            ? s3.read(ref, start, end)
            : Promise.reject(noBucket()),
    },
  };
}

export function compose(config: SenderConfig, overrides: ComposeOverrides = {}): SenderRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const tableName = config.TABLE_NAME;
  const late: { tokens?: TokenProvider } = {};
  const warn = { warn: (m: string, e?: Record<string, unknown>) => sharedLogger.warn(m, e ?? {}) };
  // a 401 while sending (after a refresh) → needs_reauth → the channel's subscriptions deleted at once
  const channels = stoppingRealtimeOnReauth(
    createDynamoChannelStore({ client: clients.doc, tableName, clock }),
    composeRealtime({
      config: { ...config, X_TIER: (config.X_TIER ?? 'pay-per-use') as XTier },
      clients,
      tokens: { getValidAccessToken: (id, o) => late.tokens!.getValidAccessToken(id, o) },
      clock,
      log: warn,
    }),
    warn,
  );
  const tokens = (late.tokens = registering(
    overrides.tokens ?? composeTokenProvider({ config, clients, channels, clock }),
  ));
  // the monthly X budgets: one read per channel every 30 s (every command near a budget), plus what
  // this container's own commands cost since, told by the meter's write (core/cost/budget.ts)
  const spendBudget = createBudgetGuard({
    read: createDynamoBudgetSnapshotReader({ client: clients.doc, tableName }),
  });
  const spend = composeSpendMeter({
    config,
    clients,
    clock,
    log: sharedLogger,
    onRecorded: (channelId, recorded) => spendBudget.spent(channelId, recorded.micros, clock.now()),
  });
  const deps: SenderDeps = {
    clock,
    channels,
    idempotency: createDynamoIdempotencyStore({
      client: clients.doc,
      tableName,
      clock,
      ttlDays: config.IDEMPOTENCY_TTL_DAYS,
      // the command's X charges ride on its completion: the meter costs a send no request of its own
      ride: (channelId, room) => spend.ride(channelId, room),
    }),
    budget: createDynamoAppBudget({
      client: clients.doc,
      tableName,
      limits: { dm: config.X_APP_DM_BUDGET_PER_DAY, post: config.X_APP_POST_BUDGET_PER_DAY },
    }),
    spendBudget,
    // The sign-in side's provider: refreshes under a lease (refresh tokens are single-use at X).
    tokens,
    writerFor: createXWriterFactory({
      apiBaseUrl: config.X_API_BASE_URL,
      onRequest: overrides.onXRequest,
      onResponse: spend.onResponse,
      timeoutMs: overrides.xTimeoutMs,
      sleep: overrides.sleep,
    }),
    media: composeMedia(config, overrides.s3),
    health: createDynamoSendHealth({ client: clients.doc, tableName }),
    // one per cold start: shared by every record this function instance handles
    recentBlocks: new RecentBlocks(),
    newAttemptId: randomUUID,
    settings: {
      ...DEFAULT_SENDER_SETTINGS,
      pausedMaxHoldSeconds: config.PAUSED_MAX_HOLD_SECONDS,
      maxReceiveCount: config.OUTBOUND_MAX_RECEIVE_COUNT ?? QUEUES.outbound.maxReceiveCount,
    },
  };
  return {
    spend,
    deps,
    results: createSqsResultsPublisher({ client: clients.sqs, queueUrl: config.RESULTS_QUEUE_URL }),
    queue: createSqsOutboundQueueControl({
      client: clients.sqs,
      sqsEndpoint: config.XC_SQS_ENDPOINT,
      dlqUrl: config.OUTBOUND_DLQ_URL,
    }),
  };
}
