/**
 * The functions room of {@link XChannel}: one factory that builds a function of `lib/handlers.ts` with
 * its own role and log group, and binders that give a function a resource's environment variable and
 * its grant in one call (STYLE.md §7, after Powertools' `bindTable`), so a function's environment and
 * its permissions are read in one place and cannot drift apart.
 *
 * The action lists are exported: the construct's public `grantX()` methods use the same ones, so a
 * case system is never granted more than x-channel's own functions.
 */
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { AssetHashType, Aws, Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { tableDefinition } from '../adapters/aws/table';
import { METRICS_NAMESPACE, METRICS_SERVICE_NAME } from '../core/metrics';
import type { HandlerSpec } from './handlers';
import { pascal } from './x-channel-queues';

/** How a function uses the table. */
export type TableAccess =
  /** Items and every index: get, query, put, update, delete, conditions. */
  | 'readWrite'
  /** Only `Query` on the table's indexes (the dispatcher's due and list scans); no item access. */
  | 'queryIndexes';

/** How a function uses a queue. */
export type QueueAccess = 'send' | 'consume';

/** How a function uses the per-channel token secrets. */
export type TokenSecretsAccess =
  /** Read and rotate a channel's tokens (the poller and sender refresh them under the lease). */
  | 'readWrite'
  /** Their whole lifecycle: create on sign-in, rotate, delete with the channel (the api). */
  | 'manage';

/** SQS actions per queue access; the public grants of the construct use the same lists. */
export const SQS_ACTIONS: Readonly<Record<QueueAccess, readonly string[]>> = {
  send: ['sqs:SendMessage'],
  consume: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
  ],
};

/**
 * KMS actions on the queues' key, allowed only when SQS makes the call (`kms:ViaService`). A producer
 * on an SSE-KMS queue needs exactly `GenerateDataKey` and `Decrypt`, a consumer `Decrypt` (SQS developer
 * guide, "Key management"); not `queue.grantSendMessages`, which adds `GenerateDataKey*`/`ReEncrypt*`.
 */
export const SQS_KEY_ACTIONS: Readonly<Record<QueueAccess, readonly string[]>> = {
  send: ['kms:GenerateDataKey', 'kms:Decrypt'],
  consume: ['kms:Decrypt'],
};

/** KMS actions on the table's key, allowed only when DynamoDB makes the call. */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

const TABLE_READ_WRITE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * Secrets Manager actions on the token secrets. Every write is followed by `DescribeSecret` and
 * `UpdateSecretVersionStage` to take AWSPREVIOUS off the replaced pair (adapters/aws/secrets-token-vault.ts).
 */
const TOKEN_SECRET_ACTIONS: Readonly<Record<TokenSecretsAccess, readonly string[]>> = {
  readWrite: ['GetSecretValue', 'PutSecretValue', 'DescribeSecret', 'UpdateSecretVersionStage'],
  manage: [
    'CreateSecret',
    'DescribeSecret',
    'GetSecretValue',
    'PutSecretValue',
    'UpdateSecretVersionStage',
    'DeleteSecret',
    'TagResource',
  ],
};

/** The `kms:ViaService` condition: the key works only when `service` calls it in this region. */
export const viaService = (service: 'dynamodb' | 'sqs' | 'secretsmanager' | 's3') => ({
  StringEquals: { 'kms:ViaService': `${service}.${Aws.REGION}.amazonaws.com` },
});

/** What every function of the construct shares. */
export interface FunctionOptions {
  /** Root of the source tree holding the entries and `node_modules/`. */
  readonly projectRoot: string;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
  readonly prebuiltCode?: Partial<Record<HandlerSpec['name'], lambda.Code>>;
  readonly bundleAwsSdk: boolean;
}

/**
 * Builds the function of `spec` in `scope` (ids `<Name>Function`, `<Name>Role`, `<Name>Logs`) with its
 * plain (non-resource) variables; resources come with the binders of {@link createBinders}.
 */
export function createXChannelFunction(
  scope: Construct,
  spec: HandlerSpec,
  environment: Record<string, string>,
  options: FunctionOptions,
): lambda.Function {
  const id = pascal(spec.name);
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Own role per function, without the AWS managed basic-execution policy (which allows writing
  // to every log group in the account): this function writes to its own log group only.
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `x-channel ${spec.name} function`,
  });
  logGroup.grantWrite(role);
  return new lambda.Function(scope, `${id}Function`, {
    description: spec.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: spec.memoryMb,
    timeout: Duration.seconds(spec.timeoutSeconds),
    role,
    logGroup,
    tracing: options.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    // Scheduler-driven ticks (dispatcher, the webhook's real-time watch, the api's revocation retry): a
    // retried tick would overlap the next one, which does the same work. (HTTP calls are synchronous.)
    retryAttempts: spec.name === 'poller' || spec.name === 'sender' ? undefined : 0,
    environment: {
      ...environment,
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    },
    code: options.prebuiltCode?.[spec.name] ?? bundledCode(spec, options.projectRoot, options.bundleAwsSdk),
    handler: `index.${spec.exportName}`,
  });
}

/** The resources the binders hand out. */
export interface BinderContext {
  /** Key of the table and the queues. */
  readonly dataKey: kms.IKey;
  /** Key of the token secrets. */
  readonly tokenKey: kms.IKey;
  /** Puts a function's role on the token key's policy (its decrypt allow-list). */
  readonly addTokenKeyUser: (role: iam.IRole) => void;
  /** Name prefix of the per-channel token secrets. */
  readonly tokenSecretPrefix: string;
  /** The X app credentials, read by every function that refreshes tokens. */
  readonly xAppSecret: secretsmanager.ISecret;
  /** What the functions are told to read it by (`X_APP_SECRET_ID`). */
  readonly xAppSecretId: string;
}

/** Options of a queue consumer (an SQS event source with partial batch responses). */
export interface ConsumerOptions {
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

/** One call per resource a function uses: its environment variable and its grant together. */
export interface Binders {
  /**
   * Sets `env` to the table's name and grants `access`: `readWrite` allows
   * `dynamodb:GetItem|BatchGetItem|Query|PutItem|UpdateItem|DeleteItem|BatchWriteItem|ConditionCheckItem`
   * on the table and its indexes, `queryIndexes` only `dynamodb:Query` on the indexes; both allow the
   * data key through DynamoDB.
   */
  bindTable(fn: lambda.Function, table: dynamodb.TableV2, env: string, access: TableAccess): void;
  /** Sets `env` to the queue's URL and allows `sqs:SendMessage` plus the data key through SQS. */
  bindQueue(fn: lambda.Function, queue: sqs.IQueue, env: string, access: 'send'): void;
  /**
   * Makes `fn` the queue's consumer: an SQS event source mapping reporting batch item failures, with
   * `sqs:ReceiveMessage|DeleteMessage|ChangeMessageVisibility|GetQueueAttributes` on the queue and
   * `kms:Decrypt` on the data key through SQS only (what Lambda's poller needs). No variable: the records
   * come in the event.
   */
  bindQueue(
    fn: lambda.Function,
    queue: sqs.IQueue,
    env: undefined,
    access: 'consume',
    consumer: ConsumerOptions,
  ): void;
  /**
   * Sets `TOKEN_SECRET_PREFIX` and `X_APP_SECRET_ID` (and `TOKEN_KMS_KEY_ID` to `manage`), allows the
   * `access` actions on the secrets under the prefix, the token key only through Secrets Manager (in
   * the role's policy and on the key policy's allow-list), and
   * reading the X app credentials (a token refresh needs them). `manage` also denies creating a token
   * secret with any other key.
   */
  bindTokenSecrets(fn: lambda.Function, access: TokenSecretsAccess): void;
  /** Sets `X_APP_SECRET_ID` and allows reading the X app credentials only (the webhook: no token secrets). */
  bindXAppSecret(fn: lambda.Function): void;
}

/** The binders of one construct; the data key statements are shared per function and service. */
export function createBinders(ctx: BinderContext): Binders {
  const dataKeyGrants = new Set<string>();
  const grantDataKey = (fn: lambda.Function, service: 'dynamodb' | 'sqs', access?: QueueAccess) => {
    const actions = service === 'sqs' ? [...SQS_KEY_ACTIONS[access ?? 'send']] : TABLE_KEY_ACTIONS;
    const sid = `DataKeyVia${pascal(service)}${access === 'consume' ? 'Consume' : ''}`;
    // One statement per service and access, however many tables or queues the function uses.
    if (dataKeyGrants.has(`${fn.node.id}/${sid}`)) return;
    dataKeyGrants.add(`${fn.node.id}/${sid}`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid,
        actions,
        resources: [ctx.dataKey.keyArn],
        conditions: viaService(service),
      }),
    );
  };

  function bindQueue(
    fn: lambda.Function,
    queue: sqs.IQueue,
    env: string | undefined,
    access: QueueAccess,
    consumer?: ConsumerOptions,
  ): void {
    if (access === 'consume') {
      // What `SqsEventSource` builds (same construct id, so the mapping keeps its logical id), but with our
      // grant instead of `queue.grantConsumeMessages`, whose `kms:Decrypt` on the data key has no condition
      // and so would also open the table. Lambda's poller receives with this role and SQS decrypts for
      // it, so the key works through SQS only (`kms:ViaService`), like the case system's consumer grants.
      fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
        eventSourceArn: queue.queueArn,
        reportBatchItemFailures: true,
        ...consumer,
      });
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `ConsumeFrom${pascal(queue.node.id)}`,
          actions: [...SQS_ACTIONS.consume],
          resources: [queue.queueArn],
        }),
      );
      grantDataKey(fn, 'sqs', 'consume');
      return;
    }
    fn.addEnvironment(env!, queue.queueUrl);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `SendTo${pascal(queue.node.id)}`,
        actions: [...SQS_ACTIONS.send],
        resources: [queue.queueArn],
      }),
    );
    grantDataKey(fn, 'sqs');
  }

  return {
    bindTable(fn, table, env, access) {
      fn.addEnvironment(env, table.tableName);
      const indexArns = tableDefinition.indexes.map((i) => `${table.tableArn}/index/${i.name}`);
      fn.addToRolePolicy(
        access === 'readWrite'
          ? new iam.PolicyStatement({
              sid: 'TableReadWrite',
              actions: TABLE_READ_WRITE_ACTIONS,
              resources: [table.tableArn, ...indexArns],
            })
          : new iam.PolicyStatement({
              sid: 'TableIndexQuery',
              actions: ['dynamodb:Query'],
              resources: indexArns,
            }),
      );
      grantDataKey(fn, 'dynamodb');
    },
    bindQueue,
    bindXAppSecret(fn) {
      fn.addEnvironment('X_APP_SECRET_ID', ctx.xAppSecretId);
      ctx.xAppSecret.grantRead(fn);
    },
    bindTokenSecrets(fn, access) {
      const tokenSecretsArn = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${ctx.tokenSecretPrefix}*`;
      fn.addEnvironment('TOKEN_SECRET_PREFIX', ctx.tokenSecretPrefix);
      fn.addEnvironment('X_APP_SECRET_ID', ctx.xAppSecretId);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TokenSecrets',
          actions: TOKEN_SECRET_ACTIONS[access].map((a) => `secretsmanager:${a}`),
          resources: [tokenSecretsArn],
        }),
      );
      // The token key opens only through Secrets Manager: nobody decrypts a token blob directly. The key
      // policy says the same and names this role: the IAM statement alone would not be enough.
      ctx.addTokenKeyUser(fn.role!);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TokenKeyViaSecretsManager',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [ctx.tokenKey.keyArn],
          conditions: viaService('secretsmanager'),
        }),
      );
      ctx.xAppSecret.grantRead(fn);
      if (access !== 'manage') return;
      fn.addEnvironment('TOKEN_KMS_KEY_ID', ctx.tokenKey.keyArn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'CreateTokenSecretsWithTokenKeyOnly',
          effect: iam.Effect.DENY,
          actions: ['secretsmanager:CreateSecret'],
          resources: [tokenSecretsArn],
          // A token secret encrypted with the AWS managed key would escape the CMK's key policy.
          conditions: { StringNotEquals: { 'secretsmanager:KmsKeyArn': ctx.tokenKey.keyArn } },
        }),
      );
    },
  };
}

/**
 * The function's code, bundled from its entry by `lib/bundle-cli.ts` with the options of
 * `lib/bundling.ts` (see there for why these options and the measured sizes). Bundling is local only:
 * esbuild is a dev dependency of x-channel, so a checkout with `npm ci` done always has it.
 */
function bundledCode(spec: HandlerSpec, projectRoot: string, bundleAwsSdk: boolean): lambda.Code {
  const flags = bundleAwsSdk ? ['--bundle-aws-sdk'] : [];
  return lambda.Code.fromAsset(projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: lambda.Runtime.NODEJS_22_X.bundlingImage,
      // Never run (local bundling always answers); it names the function and flags, which makes them
      // part of CDK's asset cache key, so the four functions do not share one bundle.
      command: [
        'bash',
        '-c',
        `echo "x-channel bundles ${spec.name} ${flags.join(' ')} locally only: run npm ci" >&2; exit 1`,
      ],
      local: {
        tryBundle(outputDir: string) {
          const tsx = createRequire(path.join(projectRoot, 'package.json')).resolve('tsx/cli');
          try {
            execFileSync(
              process.execPath,
              [tsx, path.join(__dirname, 'bundle-cli.ts'), spec.name, outputDir, ...flags],
              { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
            );
          } catch (err) {
            const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
            throw new Error(
              `bundling the ${spec.name} function failed: ${stderr || (err as Error).message}`,
              {
                cause: err,
              },
            );
          }
          return true;
        },
      },
    },
  });
}
