/**
 * Builds the poller's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the
 * local runtime, integration tests and the benchmark all call this; only endpoints (and in tests the
 * clock, X origin and fault hooks) differ. The record loop: ./app.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoFollows } from '../../adapters/aws/dynamo-follows';
import { createDynamoPollState } from '../../adapters/aws/dynamo-poll-state';
import { createDynamoProofReader } from '../../adapters/aws/dynamo-realtime-state';
import { s3ClientFromConfig } from '../../adapters/aws/s3';
import { createS3InboundMedia } from '../../adapters/aws/s3-inbound-media';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDynamoBudgetSnapshotReader } from '../../adapters/aws/dynamo-spend-budgets';
import { createXReaderFactory } from '../../adapters/x/x-reader';
import type { PollDeps } from '../../core/inbound/poll';
import { RecentRateBlocks } from '../../core/inbound/rate-blocks';
import type { InboundPublisher } from '../../core/inbound/types';
import { systemClock, type Clock, type TokenProvider } from '../../core/ports';
import { composeInboundPublisher } from '../shared/inbound-publisher';
import { logger as sharedLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { composeSpendMeter, type SpendMeter } from '../shared/spend';
import { composeTokenProvider, registering } from '../shared/tokens';
import type { PollerConfig } from './config';
import { composeRealtime } from '../shared/realtime';
import { needsRepair, syncChannel } from '../../core/realtime/subscriptions';
import { stoppingRealtimeOnReauth } from '../../core/realtime/reauth-stop';

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
  tokens?: TokenProvider;
  /** Wraps the inbound publisher (tests inject crashes here). */
  wrapPublisher?: (p: InboundPublisher) => InboundPublisher;
  /** Counts X requests (tests, benchmark). */
  onXRequest?: (info: { method: string; path: string }) => void;
  /** Every back-off wait of the poll and of its inbound publish (tests skip them). */
  sleep?: (ms: number) => Promise<void>;
  /** The media bucket's client (tests pass one signed for their S3 stand-in). */
  s3?: S3Client;
}

export interface PollerRuntime {
  config: PollerConfig;
  deps: PollDeps;
  logger: Logger;
  metrics: Metrics;
  /** What the poll's X reads cost (core/cost/meter.ts). */
  spend?: SpendMeter;
}

export function compose(config: PollerConfig, overrides: ComposeOverrides = {}): PollerRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const log = overrides.logger ?? sharedLogger;
  const tableName = config.TABLE_NAME;
  // the token provider is made below with the decorated store: the realtime deps reach it lazily
  const late: { tokens?: TokenProvider } = {};
  const realtime = composeRealtime({
    config,
    clients,
    tokens: registering({ getValidAccessToken: (id, o) => late.tokens!.getValidAccessToken(id, o) }),
    clock,
    log: { warn: (m, e) => log.warn(m, e ?? {}) },
  });
  // a refused refresh or a 401 after one → needs_reauth → its subscriptions deleted at once
  const channels = stoppingRealtimeOnReauth(
    createDynamoChannelStore({ client: clients.doc, tableName, clock }),
    realtime,
    { warn: (m, e) => log.warn(m, e ?? {}) },
  );
  const tokens = (late.tokens =
    overrides.tokens ?? composeTokenProvider({ config, clients, channels, clock }));
  // the delivered ledger in front: an item the webhook (or an earlier poll) delivered is not published again
  const publisher = composeInboundPublisher({
    config,
    clients,
    clock,
    log,
    wrapPublisher: overrides.wrapPublisher,
    sleep: overrides.sleep,
  });
  const spend = composeSpendMeter({ config, clients, clock, log });
  const deps: PollDeps = {
    clock,
    channels,
    // the poll's X charges ride on its final write: one transaction, no meter request of its own
    state: createDynamoPollState({
      client: clients.doc,
      tableName,
      clock,
      ride: (channelId, room) => spend.ride(channelId, room),
      sleep: overrides.sleep,
    }),
    tokens: registering(tokens),
    openX: createXReaderFactory({
      apiBaseUrl: config.X_API_BASE_URL,
      onRequest: overrides.onXRequest,
      onResponse: spend.onResponse,
    }),
    publisher,
    follows: createDynamoFollows({ client: clients.doc, tableName }),
    // DM attachments into the media bucket, handed on as presigned URLs (core/inbound/dm-media.ts)
    media: {
      store: config.MEDIA_BUCKET
        ? createS3InboundMedia({
            client: overrides.s3 ?? s3ClientFromConfig(config),
            bucket: config.MEDIA_BUCKET,
            urlTtlSeconds: config.MEDIA_URL_TTL_SECONDS,
          })
        : undefined,
      maxBytes: config.MEDIA_MAX_BYTES,
      timeoutMs: config.MEDIA_DOWNLOAD_TIMEOUT_MS,
    },
    tier: config.X_TIER,
    limits: {
      maxMentionPages: config.POLL_MAX_PAGES,
      maxDmPages: config.POLL_MAX_PAGES,
      timeBudgetMs: config.POLL_TIME_BUDGET_MS,
      leaseMs: config.POLL_LEASE_MS,
      followDailyCap: config.FOLLOW_DAILY_CAP,
    },
    sleep: overrides.sleep,
    // once per cold start: a 429 this container met still blocks when storing it failed
    rateBlocks: new RecentRateBlocks(),
    log: { info: (m, e) => log.info(m, e ?? {}), warn: (m, e) => log.warn(m, e ?? {}) },
    budget: {
      read: createDynamoBudgetSnapshotReader({ client: clients.doc, tableName }),
      floor: {
        mentionsSeconds: config.BUDGET_FLOOR_MENTIONS_MINUTES * 60,
        dmsSeconds: config.BUDGET_FLOOR_DMS_MINUTES * 60,
      },
      checkSeconds: config.BUDGET_CHECK_SECONDS,
    },
    realtime: {
      cadence: {
        mentionsSeconds: config.XAA_RECONCILE_MENTIONS_MINUTES * 60,
        dmsSeconds: config.XAA_RECONCILE_DMS_MINUTES * 60,
        dmIdlePageSize: config.XAA_RECONCILE_DM_PAGE_SIZE,
      },
      // DM reads skipped while the webhook's replays prove every DM delivered (core/realtime/proof.ts)
      proof: createDynamoProofReader({ client: clients.doc, tableName }),
      // subscriptions reconciliation found missing (or never made) are created with the poll's token
      repair: async (channel) => {
        if (!needsRepair(channel, realtime.settings, clock.now())) return;
        const out = await syncChannel(realtime, channel);
        log.info('real time repaired', {
          channelId: channel.id,
          state: out.state,
          reasonCode: out.reasonCode,
          subscriptions: out.subscriptions.length,
        });
      },
    },
  };
  return { config, deps, logger: log, metrics: createMetrics(), spend };
}
