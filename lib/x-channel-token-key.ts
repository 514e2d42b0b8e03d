/**
 * The token key of {@link XChannel}: the customer-managed KMS key of the per-channel token secrets, with
 * a key policy that decides who can read a token, instead of IAM alone (issue 19 item 1). Without it, the
 * default key policy (`kms:*` for the account) lets any principal with broad IAM rights (say
 * `AdministratorAccess` or `PowerUserAccess`) read every channel's refresh token and post as the business.
 *
 * The policy, statement by statement:
 * - `KeyAdministration`: the account (and so the IAM principals it allows, CloudFormation's deploy role
 *   among them) administers the key: describe, enable/disable, rotation, policy, aliases, tags, deletion.
 *   No cryptographic action and no `kms:CreateGrant` (a grant would be a way around this policy).
 * - `TokenSecretsThroughSecretsManager`: the functions bound with `bindTokenSecrets` (api, poller,
 *   sender, and any other that is bound later) may `Decrypt` and `GenerateDataKey`, only when Secrets
 *   Manager makes the call for them (`kms:ViaService`) and only as their own role (`aws:PrincipalArn`).
 * - `BreakGlassReaders` (only with `tokenReaderRoleArns`): those roles may `Decrypt` through Secrets
 *   Manager (docs/deploy.md "Break-glass: reading a token").
 * - `DenyDecryptOutsideSecretsManager` and `DenyDecryptToOthers`: explicit denies (an explicit deny wins
 *   over any IAM policy or grant) of `Decrypt` and `ReEncrypt*` (re-encryption under a key one controls
 *   is a way to decrypt) to every call not made through Secrets Manager, and to every principal not on
 *   the list above. They name cryptographic actions only, so key administration and CloudFormation
 *   updates of the key are never locked out.
 *
 * The principal lists are lazy: a function bound after the key is created still lands on them.
 */
import { Aws, Lazy, type RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/**
 * What the account may do with the token key: administration without cryptography. CDK's admin list
 * without `kms:Create*` (which includes `kms:CreateGrant`), plus `kms:CreateAlias` and on-demand rotation.
 */
export const TOKEN_KEY_ADMIN_ACTIONS: readonly string[] = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

/** What the functions that hold tokens may do, through Secrets Manager: read and write secret values. */
export const TOKEN_KEY_USER_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** What no one else may do, and no one at all outside Secrets Manager. */
export const TOKEN_KEY_DENIED_ACTIONS: readonly string[] = ['kms:Decrypt', 'kms:ReEncrypt*'];

/** The token key and the one call that puts a function's role on its key policy. */
export interface TokenKey {
  readonly key: kms.Key;
  /** Lets `role` decrypt and generate data keys through Secrets Manager (the `bindTokenSecrets` binder). */
  addUser(role: iam.IRole): void;
}

export interface TokenKeyOptions {
  readonly removalPolicy: RemovalPolicy;
  /** Role ARNs allowed to decrypt token secrets through Secrets Manager besides the functions. */
  readonly readerRoleArns: readonly string[];
}

/** Creates the token key (id `TokenKey`, a contract) in `scope` with the policy described above. */
export function createTokenKey(scope: Construct, options: TokenKeyOptions): TokenKey {
  const userArns: string[] = [];
  const users = Lazy.any({ produce: () => [...userArns] });
  const everyone = Lazy.any({ produce: () => [...userArns, ...options.readerRoleArns] });
  const viaSecretsManager = `secretsmanager.${Aws.REGION}.amazonaws.com`;
  const account = new iam.AccountRootPrincipal();

  const statements = [
    new iam.PolicyStatement({
      sid: 'KeyAdministration',
      principals: [account],
      actions: [...TOKEN_KEY_ADMIN_ACTIONS],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'TokenSecretsThroughSecretsManager',
      principals: [account],
      actions: [...TOKEN_KEY_USER_ACTIONS],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': viaSecretsManager },
        ArnEquals: { 'aws:PrincipalArn': users },
      },
    }),
    ...(options.readerRoleArns.length
      ? [
          new iam.PolicyStatement({
            sid: 'BreakGlassReaders',
            principals: [account],
            actions: ['kms:Decrypt'],
            resources: ['*'],
            conditions: {
              StringEquals: { 'kms:ViaService': viaSecretsManager },
              ArnEquals: { 'aws:PrincipalArn': [...options.readerRoleArns] },
            },
          }),
        ]
      : []),
    new iam.PolicyStatement({
      sid: 'DenyDecryptOutsideSecretsManager',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...TOKEN_KEY_DENIED_ACTIONS],
      resources: ['*'],
      conditions: { StringNotEquals: { 'kms:ViaService': viaSecretsManager } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyDecryptToOthers',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...TOKEN_KEY_DENIED_ACTIONS],
      resources: ['*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': everyone } },
    }),
  ];

  const key = new kms.Key(scope, 'TokenKey', {
    description: 'x-channel: encrypts the per-channel X token secrets',
    enableKeyRotation: true,
    removalPolicy: options.removalPolicy,
    // A policy of our own replaces CDK's default `kms:*` for the account.
    policy: new iam.PolicyDocument({ statements }),
  });
  return {
    key,
    addUser(role) {
      if (!userArns.includes(role.roleArn)) userArns.push(role.roleArn);
    },
  };
}
