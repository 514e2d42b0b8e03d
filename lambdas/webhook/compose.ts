/**
 * Builds the X webhook's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the
 * local runtime and integration tests all call this; only endpoints differ.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoAccountDirectory } from '../../adapters/aws/dynamo-account-directory';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import {
  createDynamoCatchingUp,
  createDynamoPollBackfill,
  createDynamoRealtimeState,
} from '../../adapters/aws/dynamo-realtime-state';
import { createXWebhooksApi } from '../../adapters/x/x-webhooks';
import {
  createSecretsAppCredentials,
  type AppCredentialsProvider,
} from '../../adapters/aws/secrets-app-credentials';
import type { InboundPublisher } from '../../core/inbound/types';
import { systemClock, type Clock } from '../../core/ports';
import type { RealtimeStateStore } from '../../core/realtime/outages';
import { runRealtimeWatch, type WatchReport, type XWebhooksApi } from '../../core/realtime/watch';
import { createDynamoDmPollRequest } from '../../adapters/aws/dynamo-dm-poll-request';
import { createSqsPollJobs } from '../../adapters/aws/sqs-poll-jobs';
import type { WebhookDeps } from '../../core/realtime/webhook';
import type { SettleReport } from '../../core/inbound/delivered';
import type { XaaEvent } from '../../core/realtime/events';
import { composeSpendMeter, meterDeliveredEvents } from '../shared/spend';
import { composeInboundPublisher } from '../shared/inbound-publisher';
import { logger as sharedLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { WebhookConfig } from './config';
import { createDynamoRealtimeStore } from '../../adapters/aws/dynamo-realtime';
import { createXActivity } from '../../adapters/x/x-activity';
import type { Channel } from '../../core/channel';
import { DEFAULT_SWEEP } from '../../core/realtime/proof';
import { reconcileSubscriptions, type ReconcileReport } from '../../core/realtime/reconcile';
import { realtimeSettings } from '../shared/realtime';
import { stoppingRealtimeOnReauth } from '../../core/realtime/reauth-stop';
import { needsReauth } from '../../core/errors';

export interface WebhookRuntime {
  config: WebhookConfig;
  deps: WebhookDeps;
  /** The X app credentials; the webhook needs their `apiKeySecret`. */
  credentials: AppCredentialsProvider;
  /** Outage windows, the replay job and the marks (core/realtime/outages.ts). */
  realtime: RealtimeStateStore;
  /** One tick of the real-time watch (outage detection, the replay job): the schedule calls it. */
  watch(): Promise<WatchReport>;
  /** Subscription reconciliation (core/realtime/reconcile.ts): X's list against every channel. */
  reconcile(): Promise<ReconcileReport>;
  /**
   * The delivered ledger's sweep (core/inbound/delivered.ts): settles what a dead invocation (webhook
   * or poller) held and may not have published. Runs on every watch tick, real time on or not.
   */
  settlePending(): Promise<SettleReport>;
  logger: Logger;
  metrics: Metrics;
  /** Counts what X bills for the events of a delivery that was acknowledged (core/cost/meter.ts). */
  spendEvents?: (events: XaaEvent[]) => Promise<void>;
  /** Moves a channel's `realtimeLastEventAt` forward (health's "last event"). */
  touchLastEvent?: (channelId: string, at: string) => Promise<void>;
  /** Counts XChat messages delivered as encrypted DMs on the channel (health). */
  countEncrypted?: (channelId: string, n: number) => Promise<void>;
}

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
  /** Wraps the SQS inbound publisher (tests inject crashes here). */
  wrapPublisher?: (p: InboundPublisher) => InboundPublisher;
  /** Replaces the X webhooks client (tests count calls). */
  xWebhooks?: XWebhooksApi;
}

export function compose(config: WebhookConfig, overrides: ComposeOverrides = {}): WebhookRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const log = overrides.logger ?? sharedLogger;
  const tableName = config.TABLE_NAME;
  const credentials = createSecretsAppCredentials({
    client: clients.secrets,
    secretId: config.X_APP_SECRET_ID,
  });
  const realtime = createDynamoRealtimeState({ client: clients.doc, tableName, clock });
  const x =
    overrides.xWebhooks ??
    createXWebhooksApi({ apiBaseUrl: config.X_API_BASE_URL, credentials: () => credentials.get() });
  const backfill = createDynamoPollBackfill({ client: clients.doc, tableName, clock });
  const accounts = createDynamoAccountDirectory({ client: clients.doc, tableName });
  const spend = composeSpendMeter({ config, clients, clock, log });
  const channels = createDynamoChannelStore({ client: clients.doc, tableName, clock });
  const activity = createXActivity({
    apiBaseUrl: config.X_API_BASE_URL,
    credentials,
    webhookUrl: config.WEBHOOK_PUBLIC_URL,
  });
  const unsupported = new Set<string>();
  const realtimeStore = createDynamoRealtimeStore({ client: clients.doc, tableName });
  // the same ledger as the poller's: an item is published to a channel once, whichever path came first
  const publisher = composeInboundPublisher({
    config,
    clients,
    clock,
    log,
    wrapPublisher: overrides.wrapPublisher,
  });
  return {
    config,
    spendEvents: meterDeliveredEvents(spend, accounts, clock, log),
    touchLastEvent: (channelId, at) => realtimeStore.touchLastEvent(channelId, at),
    countEncrypted: (channelId, n) => realtimeStore.countEncrypted(channelId, n),
    deps: {
      accounts,
      // oauth.revoke → needs_reauth → its subscriptions deleted at once (app bearer; no user token needed)
      channels: stoppingRealtimeOnReauth(
        createDynamoChannelStore({ client: clients.doc, tableName, clock }),
        {
          x: activity,
          tokens: {
            getValidAccessToken: () =>
              Promise.reject(needsReauth('the webhook holds no user tokens: nothing is created here')),
          },
          store: realtimeStore,
          clock,
          settings: realtimeSettings(config.X_TIER, config.XAA_SUBSCRIPTION_LIMIT),
          unsupported,
          log: { warn: (m, e) => log.warn(m, e ?? {}) },
        },
        { warn: (m, e) => log.warn(m, e ?? {}) },
      ),
      publisher,
      clock,
      // a DM with media goes to the poller, which holds the token to download it: a poll job now
      dmPoll: createDynamoDmPollRequest({
        client: clients.doc,
        tableName,
        clock,
        jobs: config.POLL_JOBS_QUEUE_URL
          ? createSqsPollJobs({ client: clients.sqs, queueUrl: config.POLL_JOBS_QUEUE_URL, maxAttempts: 1 })
          : undefined,
        onJobNotQueued: (channelId) =>
          log.warn('prompt DM poll not queued; the dispatcher tick polls the channel', { channelId }),
      }),
    },
    settlePending: () => publisher.settlePending(),
    credentials,
    realtime,
    watch: () =>
      runRealtimeWatch({
        state: realtime,
        x,
        backfill,
        catchingUp: createDynamoCatchingUp({ client: clients.doc, tableName }),
        clock,
        webhookUrl: config.WEBHOOK_PUBLIC_URL,
        settings: {
          restartGapMs: config.REALTIME_RESTART_GAP_MINUTES * 60_000,
          quietMs: config.REALTIME_QUIET_MINUTES * 60_000,
          jobTimeoutMs: config.REALTIME_REPLAY_TIMEOUT_MINUTES * 60_000,
          sweep: { ...DEFAULT_SWEEP, everyMs: config.REALTIME_SWEEP_MINUTES * 60_000 },
        },
      }),
    async reconcile() {
      const all: Channel[] = [];
      let cursor: string | undefined;
      do {
        const page = await channels.list({ limit: 100, cursor });
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      const report = await reconcileSubscriptions(
        {
          x: activity,
          store: realtimeStore,
          clock,
          settings: realtimeSettings(config.X_TIER, config.XAA_SUBSCRIPTION_LIMIT),
          unsupported,
          log: { warn: (m, e) => log.warn(m, e ?? {}) },
        },
        all,
      );
      // every record now reflects X's list of that time (core/realtime/proof.ts)
      if (report.listedAt) await realtime.advanceMark('subscriptionsListedAt', new Date(report.listedAt));
      return report;
    },
    logger: log,
    metrics: createMetrics(),
  };
}
