/**
 * `TokenVault` on Secrets Manager: the ONLY code that reads or writes per-channel X tokens.
 * One secret per channel, named `${prefix}${channelId}`, encrypted with the customer-managed KMS key
 * when one is given. Every value read or written is registered with the logger's redaction, so a
 * token that reaches a log line by mistake is masked.
 *
 * Every write leaves one readable version: Secrets Manager demotes the value it replaces to AWSPREVIOUS,
 * and the vault takes that label off again (`UpdateSecretVersionStage`), so a replaced token pair (the
 * grant a re-authorization replaced, or a rotated pair) is not one `GetSecretValue --version-stage
 * AWSPREVIOUS` away. The unlabelled version is deprecated: Secrets Manager removes it in time, and until
 * then only a caller naming its `VersionId` and allowed by the token key's policy can read it.
 *
 * Deletion uses `ForceDeleteWithoutRecovery`: the grant is revoked at X when a channel is deleted,
 * so a recovery window would only keep dead credentials around (and block the name for 7–30 days).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { retryable } from '../../core/errors';
import type { StoredTokens, TokenVault } from '../../core/tokens';
import { registerSecretValue } from '../../lambdas/shared/logger';

export interface SecretsTokenVaultOptions {
  client: SecretsManagerClient;
  /** e.g. `x-channel/tokens/` */
  prefix: string;
  /** KMS key id/ARN/alias for new secrets; omitted → the account's default `aws/secretsmanager` key. */
  kmsKeyId?: string;
}

const nameOf = (e: unknown) => (e as Error)?.name;

function register(t: StoredTokens): StoredTokens {
  registerSecretValue(t.accessToken);
  registerSecretValue(t.refreshToken);
  return t;
}

function parse(channelId: string, raw: string | undefined): StoredTokens | null {
  if (!raw) return null;
  try {
    const t = JSON.parse(raw) as StoredTokens;
    if (typeof t.accessToken !== 'string') throw new Error('no accessToken');
    return register({
      accessToken: t.accessToken,
      refreshToken: typeof t.refreshToken === 'string' ? t.refreshToken : null,
      expiresAt: t.expiresAt,
      scopes: Array.isArray(t.scopes) ? t.scopes : [],
      updatedAt: t.updatedAt,
    });
  } catch {
    // never echo the raw value: it is (or holds) a secret
    throw retryable(
      'token_secret_invalid',
      `the token secret of channel ${channelId} is not valid JSON tokens`,
    );
  }
}

/** Builds the Secrets Manager token vault. */
export function createSecretsTokenVault({ client, prefix, kmsKeyId }: SecretsTokenVaultOptions): TokenVault {
  const secretId = (channelId: string) => `${prefix}${channelId}`;

  /** Takes AWSPREVIOUS off the replaced version (see the header). */
  async function dropPrevious(channelId: string): Promise<void> {
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId(channelId) }));
    const previous = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes('AWSPREVIOUS'),
    )?.[0];
    if (!previous) return;
    try {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId(channelId),
          VersionStage: 'AWSPREVIOUS',
          RemoveFromVersionId: previous,
        }),
      );
    } catch (e) {
      // A concurrent write moved the label meanwhile; that write drops it in turn.
      if (nameOf(e) !== 'InvalidParameterException') throw e;
    }
  }

  return {
    async put(channelId, tokens) {
      register(tokens);
      const SecretString = JSON.stringify({
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
        scopes: tokens.scopes,
        updatedAt: tokens.updatedAt,
      });
      try {
        await client.send(new PutSecretValueCommand({ SecretId: secretId(channelId), SecretString }));
        await dropPrevious(channelId);
        return;
      } catch (e) {
        if (nameOf(e) !== 'ResourceNotFoundException') throw e;
      }
      try {
        await client.send(
          new CreateSecretCommand({
            Name: secretId(channelId),
            SecretString,
            Description: `X tokens of x-channel channel ${channelId}`,
            Tags: [{ Key: 'x-channel:channel', Value: channelId }],
            ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
          }),
        );
      } catch (e) {
        // a concurrent first write created it: write our value as the new current version
        if (nameOf(e) !== 'ResourceExistsException') throw e;
        await client.send(new PutSecretValueCommand({ SecretId: secretId(channelId), SecretString }));
        await dropPrevious(channelId);
      }
    },

    async get(channelId) {
      try {
        const res = await client.send(new GetSecretValueCommand({ SecretId: secretId(channelId) }));
        return parse(channelId, res.SecretString);
      } catch (e) {
        if (nameOf(e) === 'ResourceNotFoundException') return null;
        throw e;
      }
    },

    async delete(channelId) {
      try {
        await client.send(
          new DeleteSecretCommand({ SecretId: secretId(channelId), ForceDeleteWithoutRecovery: true }),
        );
      } catch (e) {
        if (nameOf(e) !== 'ResourceNotFoundException') throw e;
      }
    },
  };
}
