/**
 * The token provider as the poller and the sender build it: the Secrets Manager vault, a DynamoDB
 * refresh lease and X's refresh endpoint with the app credentials (core/tokens.ts explains the lease).
 */
import type { AwsClients } from '../../adapters/aws/clients';
import { createDynamoLeaseStore } from '../../adapters/aws/dynamo-lease';
import { createSecretsAppCredentials } from '../../adapters/aws/secrets-app-credentials';
import { createSecretsTokenVault } from '../../adapters/aws/secrets-token-vault';
import { createXOAuth } from '../../adapters/x/oauth';
import type { ChannelStore, Clock, TokenProvider } from '../../core/ports';
import { createTokenProvider } from '../../core/tokens';
import { registerSecretValue } from './logger';

export interface TokenProviderConfig {
  TABLE_NAME: string;
  TOKEN_SECRET_PREFIX: string;
  TOKEN_KMS_KEY_ID?: string;
  X_API_BASE_URL: string;
  X_AUTHORIZE_URL: string;
  X_APP_SECRET_ID: string;
}

export function composeTokenProvider(options: {
  config: TokenProviderConfig;
  clients: AwsClients;
  channels: ChannelStore;
  clock: Clock;
}): TokenProvider {
  const { config, clients, channels, clock } = options;
  return createTokenProvider({
    vault: createSecretsTokenVault({
      client: clients.secrets,
      prefix: config.TOKEN_SECRET_PREFIX,
      kmsKeyId: config.TOKEN_KMS_KEY_ID,
    }),
    leases: createDynamoLeaseStore({ client: clients.doc, tableName: config.TABLE_NAME, clock }),
    oauth: createXOAuth({
      apiBaseUrl: config.X_API_BASE_URL,
      authorizeUrl: config.X_AUTHORIZE_URL,
      credentials: createSecretsAppCredentials({ client: clients.secrets, secretId: config.X_APP_SECRET_ID }),
    }),
    channels,
    clock,
  });
}

/** Never hands a token out unregistered: the logger masks it wherever it would appear. */
export function registering(tokens: TokenProvider): TokenProvider {
  return {
    async getValidAccessToken(channelId, options) {
      const token = await tokens.getValidAccessToken(channelId, options);
      registerSecretValue(token);
      return token;
    },
  };
}
