/**
 * Builds the sender's adapters from its config, once per cold start (STYLE.md §1, §4). Lambda, the local
 * runtime, integration tests and the benchmark all call this; only endpoints (and, in tests, the clock)
 * differ.
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientsFromConfig, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoAppBudget } from '../../adapters/aws/dynamo-app-budget';
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoIdempotencyStore } from '../../adapters/aws/dynamo-idempotency';
import { QUEUES } from '../../adapters/aws/queues';
import { createSqsResultsPublisher } from '../../adapters/aws/sqs-results-publisher';
import { createXWriterFactory } from '../../adapters/x/x-writer';
import { needsReauth, permanent } from '../../core/errors';
import { DEFAULT_SENDER_SETTINGS, type SenderDeps } from '../../core/outbound/send';
import type { ResultsPublisher } from '../../core/outbound/ports';
import { systemClock, type Clock, type TokenProvider } from '../../core/ports';
import { registerSecretValue } from '../shared/logger';
import type { SenderConfig } from './config';
import { createSqsOutboundQueueControl, type OutboundQueueControl } from './queue-control';

/** Everything one sender invocation needs. */
export interface SenderRuntime {
  deps: SenderDeps;
  results: ResultsPublisher;
  queue: OutboundQueueControl;
}

export interface ComposeOverrides {
  clients?: AwsClients;
  clock?: Clock;
  tokens?: TokenProvider;
  /** Counts X requests (tests, benchmark). */
  onXRequest?: (info: { method: string; path: string }) => void;
  /** Per-call X timeout (default 10 s). */
  xTimeoutMs?: number;
}

/**
 * Reads the channel's access token from the token vault's secret (`<prefix><channelId>`, JSON
 * `{accessToken, refreshToken, expiresAt, scopes, updatedAt}`). It cannot refresh: a refused or expired
 * token is `needs_reauth`. Used until the sign-in side's refreshing `createTokenProvider` is wired in here.
 */
export function createSecretTokenReader(options: {
  client: SecretsManagerClient;
  prefix: string;
  clock?: Clock;
}): TokenProvider {
  const clock = options.clock ?? systemClock;
  return {
    async getValidAccessToken(channelId, opts = {}) {
      let raw: string | undefined;
      try {
        raw = (
          await options.client.send(new GetSecretValueCommand({ SecretId: `${options.prefix}${channelId}` }))
        ).SecretString;
      } catch (e) {
        if ((e as Error).name === 'ResourceNotFoundException')
          throw needsReauth('the channel has no stored tokens', e);
        throw e;
      }
      let stored: { accessToken?: unknown; refreshToken?: unknown; expiresAt?: unknown };
      try {
        stored = JSON.parse(raw ?? '');
      } catch {
        throw permanent('internal', 'the channel token secret is not valid JSON');
      }
      if (typeof stored.accessToken !== 'string')
        throw permanent('internal', 'the channel token secret has no accessToken');
      registerSecretValue(stored.accessToken);
      if (typeof stored.refreshToken === 'string') registerSecretValue(stored.refreshToken);
      const expiresMs = typeof stored.expiresAt === 'string' ? Date.parse(stored.expiresAt) : NaN;
      const minMs = (opts.minValiditySeconds ?? 60) * 1000;
      if (opts.forceRefresh || (!Number.isNaN(expiresMs) && expiresMs - clock.now().getTime() < minMs)) {
        throw needsReauth('the access token is expired or was refused and cannot be refreshed here');
      }
      return stored.accessToken;
    },
  };
}

export function composeSender(config: SenderConfig, overrides: ComposeOverrides = {}): SenderRuntime {
  const clients = overrides.clients ?? awsClientsFromConfig(config);
  const clock = overrides.clock ?? systemClock;
  const tableName = config.TABLE_NAME;
  const deps: SenderDeps = {
    clock,
    channels: createDynamoChannelStore({ client: clients.doc, tableName, clock }),
    idempotency: createDynamoIdempotencyStore({
      client: clients.doc,
      tableName,
      clock,
      ttlDays: config.IDEMPOTENCY_TTL_DAYS,
    }),
    budget: createDynamoAppBudget({
      client: clients.doc,
      tableName,
      limits: { dm: config.X_APP_DM_BUDGET_PER_DAY, post: config.X_APP_POST_BUDGET_PER_DAY },
    }),
    tokens:
      overrides.tokens ??
      createSecretTokenReader({ client: clients.secrets, prefix: config.TOKEN_SECRET_PREFIX, clock }),
    writerFor: createXWriterFactory({
      apiBaseUrl: config.X_API_BASE_URL,
      onRequest: overrides.onXRequest,
      timeoutMs: overrides.xTimeoutMs,
    }),
    newAttemptId: randomUUID,
    settings: {
      ...DEFAULT_SENDER_SETTINGS,
      pausedMaxHoldSeconds: config.PAUSED_MAX_HOLD_SECONDS,
      maxReceiveCount: config.OUTBOUND_MAX_RECEIVE_COUNT ?? QUEUES.outbound.maxReceiveCount,
    },
  };
  return {
    deps,
    results: createSqsResultsPublisher({ client: clients.sqs, queueUrl: config.RESULTS_QUEUE_URL }),
    queue: createSqsOutboundQueueControl({
      client: clients.sqs,
      sqsEndpoint: config.XC_SQS_ENDPOINT,
      dlqUrl: config.OUTBOUND_DLQ_URL,
    }),
  };
}
