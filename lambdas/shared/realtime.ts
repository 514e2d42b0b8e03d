/**
 * The real-time subscription deps as the api and the dispatcher build them: X's subscription endpoints
 * through twitter-api-v2 (app bearer from the X app secret's API key and secret), the channel's user
 * token, and the record on the channel item. Plans without the X Activity API are known from `X_TIER`.
 */
import type { AwsClients } from '../../adapters/aws/clients';
import { createDynamoRealtimeStore } from '../../adapters/aws/dynamo-realtime';
import { createSecretsAppCredentials } from '../../adapters/aws/secrets-app-credentials';
import { createXActivity } from '../../adapters/x/x-activity';
import type { XTier } from '../../core/inbound/planner';
import type { Clock, TokenProvider } from '../../core/ports';
import type { RealtimeDeps, RealtimeSettings } from '../../core/realtime/subscriptions';

/** Plans whose apps get no X Activity API (the simulated X refuses them; X prices XAA for pay-per-use). */
const WITHOUT_XAA: ReadonlySet<XTier> = new Set<XTier>(['free', 'basic', 'pro']);

/** X's self-serve cap (X-API.md §9); other plans: only what X's refusal says. */
const DEFAULT_LIMIT: Partial<Record<XTier, number>> = { 'pay-per-use': 1500 };

export function realtimeSettings(tier: XTier, limit?: number): RealtimeSettings {
  return {
    unavailable: WITHOUT_XAA.has(tier)
      ? {
          code: 'plan_without_xaa',
          reason: `the X plan (${tier}) does not include the X Activity API: polling only`,
        }
      : null,
    subscriptionLimit: limit ?? DEFAULT_LIMIT[tier] ?? null,
  };
}

export interface RealtimeConfig {
  TABLE_NAME: string;
  X_API_BASE_URL: string;
  X_APP_SECRET_ID: string;
  X_TIER: XTier;
  WEBHOOK_PUBLIC_URL?: string;
  XAA_SUBSCRIPTION_LIMIT?: number;
}

export function composeRealtime(options: {
  config: RealtimeConfig;
  clients: AwsClients;
  tokens: TokenProvider;
  clock: Clock;
  log?: RealtimeDeps['log'];
}): RealtimeDeps {
  const { config, clients } = options;
  return {
    x: createXActivity({
      apiBaseUrl: config.X_API_BASE_URL,
      credentials: createSecretsAppCredentials({ client: clients.secrets, secretId: config.X_APP_SECRET_ID }),
      webhookUrl: config.WEBHOOK_PUBLIC_URL,
    }),
    tokens: options.tokens,
    store: createDynamoRealtimeStore({ client: clients.doc, tableName: config.TABLE_NAME }),
    clock: options.clock,
    settings: realtimeSettings(config.X_TIER, config.XAA_SUBSCRIPTION_LIMIT),
    unsupported: new Set(),
    log: options.log,
  };
}
