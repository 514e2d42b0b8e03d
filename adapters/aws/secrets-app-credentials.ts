/**
 * The X app's OAuth 2.0 client id and secret, read from Secrets Manager (`X_APP_SECRET_ID`, JSON
 * `{"clientId","clientSecret"}`) once per container and cached for its life: the values change only
 * when an operator rotates them, and a cold start picks the new ones up.
 *
 * Optional in the same JSON: `apiKey` and `apiKeySecret`, the app's OAuth 1.0a consumer key and secret
 * ("API Key and Secret" in X's developer portal). The webhook signs X's CRC and checks each delivery's
 * signature with `apiKeySecret` (X-API.md §7); without it the webhook answers 503 and says why.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { permanent } from '../../core/errors';
import { registerSecretValue } from '../../lambdas/shared/logger';

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
  /** OAuth 1.0a consumer key (X Activity API app bearer); absent when not configured. */
  apiKey?: string;
  /** OAuth 1.0a consumer secret: the webhook's CRC and signature key; absent when not configured. */
  apiKeySecret?: string;
}

/** Gives the X app credentials (cached after the first successful read). */
export interface AppCredentialsProvider {
  get(): Promise<AppCredentials>;
}

export function createSecretsAppCredentials(options: {
  client: SecretsManagerClient;
  secretId: string;
}): AppCredentialsProvider {
  let cached: Promise<AppCredentials> | undefined;
  const load = async (): Promise<AppCredentials> => {
    let raw: string | undefined;
    try {
      raw = (await options.client.send(new GetSecretValueCommand({ SecretId: options.secretId })))
        .SecretString;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') {
        throw permanent('app_config', `the X app secret ${options.secretId} does not exist`, e);
      }
      throw e;
    }
    let parsed: Partial<AppCredentials> = {};
    try {
      parsed = JSON.parse(raw ?? '');
    } catch {
      /* reported below without the value */
    }
    const problems: string[] = [];
    if (typeof parsed.clientId !== 'string' || !parsed.clientId) problems.push('clientId');
    if (typeof parsed.clientSecret !== 'string' || !parsed.clientSecret) problems.push('clientSecret');
    for (const optional of ['apiKey', 'apiKeySecret'] as const) {
      const value = parsed[optional];
      if (value !== undefined && (typeof value !== 'string' || !value)) problems.push(optional);
    }
    if (problems.length) {
      throw permanent(
        'app_config',
        `the X app secret ${options.secretId} must be JSON {"clientId","clientSecret"} (optionally "apiKey","apiKeySecret"); missing or invalid: ${problems.join(', ')}`,
      );
    }
    registerSecretValue(parsed.clientSecret);
    if (parsed.apiKeySecret) registerSecretValue(parsed.apiKeySecret);
    return {
      clientId: parsed.clientId!,
      clientSecret: parsed.clientSecret!,
      ...(parsed.apiKey ? { apiKey: parsed.apiKey } : {}),
      ...(parsed.apiKeySecret ? { apiKeySecret: parsed.apiKeySecret } : {}),
    };
  };
  return {
    get() {
      // a failed read is not cached: the next request retries (e.g. after the operator fixed the secret)
      cached ??= load().catch((e) => {
        cached = undefined;
        throw e;
      });
      return cached;
    },
  };
}
