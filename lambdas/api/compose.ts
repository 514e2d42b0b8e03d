/**
 * Builds the admin API's adapters from its config, once per container (STYLE.md §1, §4). Lambda,
 * the local runtime and integration tests all call this; only endpoints differ.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoLeaseStore } from '../../adapters/aws/dynamo-lease';
import { createDynamoOAuthStateStore } from '../../adapters/aws/dynamo-oauth-state';
import { createSecretsAppCredentials } from '../../adapters/aws/secrets-app-credentials';
import { createSecretsTokenVault } from '../../adapters/aws/secrets-token-vault';
import { createDynamoRevocationStore } from '../../adapters/aws/dynamo-revocations';
import { createXOAuth } from '../../adapters/x/oauth';
import { createSqsPollJobs } from '../../adapters/aws/sqs-poll-jobs';
import { makeChannelDue } from '../../adapters/aws/dynamo-poll-state';
import { readAppBudgetStatus, type AppBudgetStatus } from '../../adapters/aws/dynamo-app-budget';
import type { PollJobQueue } from '../../core/inbound/types';
import type { SignInDeps } from '../../core/channels';
import type { Clock, TokenProvider } from '../../core/ports';
import { systemClock } from '../../core/ports';
import { createTokenProvider } from '../../core/tokens';
import type { SpendLedger } from '../../core/cost/meter';
import type { SpendBudgets } from '../../core/cost/budget';
import { createDynamoSpendBudgets } from '../../adapters/aws/dynamo-spend-budgets';
import type { XPriceTable } from '../../core/cost/prices';
import { composeSpendMeter, type SpendMeter } from '../shared/spend';
import { createLogger } from '../shared/logger';
import { composeRealtime } from '../shared/realtime';
import { stoppingRealtimeOnReauth } from '../../core/realtime/reauth-stop';
import { registering } from '../shared/tokens';
import type { RealtimeDeps } from '../../core/realtime/subscriptions';
import type { ApiConfig } from './config';
import { createDynamoAlertStore } from '../../adapters/aws/dynamo-alerts';
import type { AlertRecord } from '../../core/alerts/evaluate';

export interface ApiDeps extends SignInDeps {
  config: ApiConfig;
  logger: Logger;
  /** For callers that need a valid access token (not used by the API routes themselves). */
  tokens: TokenProvider;
  /** The app-wide X write budgets (DMs and posts per UTC day, shared by all channels) for the health route. */
  appBudgets?: () => Promise<Record<'dm' | 'post', AppBudgetStatus>>;
  /** Absent when `POLL_JOBS_QUEUE_URL` is not set. */
  pollJobs?: PollJobQueue;
  /** X Activity API subscriptions per channel: made at sign-in and switch changes, removed on delete. */
  realtime: RealtimeDeps;
  /** The spend meter's counters and prices (the cost routes); `meter` counts the sign-in's `users/me`. */
  spend?: {
    ledger: SpendLedger;
    prices: XPriceTable;
    budgets: SpendBudgets;
    meter?: SpendMeter;
    /** Makes a channel due now (a budget change lifts the poller's floor at once). */
    makeDue?: (channelId: string) => Promise<boolean>;
  };
  /** The open alerts (`GET /alerts`), as the dispatcher's evaluator keeps them. */
  alerts?: { listOpen(): Promise<AlertRecord[]> };
}

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  logger?: Logger;
}

export function compose(config: ApiConfig, overrides: ComposeOverrides = {}): ApiDeps {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  // the validated LOG_LEVEL decides (Powertools resets per-invocation levels, so no setLogLevel here)
  const log = overrides.logger ?? createLogger({ logLevel: config.LOG_LEVEL.toUpperCase() });
  const tableName = config.TABLE_NAME;
  const channels = createDynamoChannelStore({ client: clients.doc, tableName, clock });
  const vault = createSecretsTokenVault({
    client: clients.secrets,
    prefix: config.TOKEN_SECRET_PREFIX,
    kmsKeyId: config.TOKEN_KMS_KEY_ID,
  });
  const meter = composeSpendMeter({ config, clients, clock, log });
  const oauth = createXOAuth({
    apiBaseUrl: config.X_API_BASE_URL,
    authorizeUrl: config.X_AUTHORIZE_URL,
    onResponse: meter.onResponse,
    credentials: createSecretsAppCredentials({ client: clients.secrets, secretId: config.X_APP_SECRET_ID }),
  });
  const leases = createDynamoLeaseStore({ client: clients.doc, tableName, clock });
  const late: { tokens?: TokenProvider } = {};
  const realtime = composeRealtime({
    config,
    clients,
    tokens: registering({ getValidAccessToken: (id, o) => late.tokens!.getValidAccessToken(id, o) }),
    clock,
    log: { warn: (message, extra) => log.warn(message, extra ?? {}) },
  });
  // a refresh X refuses here (a sync after a switch change) → needs_reauth → subscriptions deleted at once
  const tokens = (late.tokens = createTokenProvider({
    vault,
    leases,
    oauth,
    channels: stoppingRealtimeOnReauth(channels, realtime, {
      warn: (message, extra) => log.warn(message, extra ?? {}),
    }),
    clock,
  }));
  return {
    config,
    logger: log,
    clock,
    channels,
    vault,
    oauth,
    states: createDynamoOAuthStateStore({ client: clients.doc, tableName }),
    revocations: createDynamoRevocationStore({ client: clients.doc, tableName }),
    tokens,
    realtime,
    appBudgets: async () => {
      const options = { client: clients.doc, tableName };
      const now = clock.now();
      const [dm, post] = await Promise.all([
        readAppBudgetStatus(options, 'dm', now),
        readAppBudgetStatus(options, 'post', now),
      ]);
      return { dm, post };
    },
    spend: {
      ledger: meter.ledger,
      prices: meter.prices,
      budgets: createDynamoSpendBudgets({ client: clients.doc, tableName }),
      meter,
      makeDue: (channelId) => makeChannelDue({ client: clients.doc, tableName }, channelId, clock.now()),
    },
    alerts: createDynamoAlertStore({ client: clients.doc, tableName }),
    pollJobs: config.POLL_JOBS_QUEUE_URL
      ? createSqsPollJobs({ client: clients.sqs, queueUrl: config.POLL_JOBS_QUEUE_URL })
      : undefined,
    onWarning: ({ channelId, code, message }) => log.warn(message, { channelId, code }),
  };
}
