/**
 * `XChannel`: everything x-channel needs in one AWS account, as one reusable construct. The queue
 * topology and table layout come from `adapters/aws/` and the functions from `lib/handlers.ts`, so the
 * deployed system and the local runtime (`npm start`) are built from the same definitions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { AssetHashType, Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { QUEUES, type QueueRole, type QueueSpec } from '../adapters/aws/queues';
import { LAMBDA_CONSOLE_DIST_DIR } from './bundling';
import { DUE_INDEX, LIST_INDEX, tableDefinition } from '../adapters/aws/table';
import {
  HANDLERS,
  METRICS,
  X_TIER_PRESETS,
  X_TIERS,
  type HandlerName,
  type HandlerSpec,
  type XTier,
} from './handlers';

/** Secrets Manager name of the X app credentials when no other is given. */
export const DEFAULT_X_APP_SECRET_NAME = 'x-channel/x-app';

/** Properties of {@link XChannel}. Every one is optional; the defaults deploy a working system. */
export interface XChannelProps {
  /**
   * How often the dispatcher runs and enqueues a poll job per due channel. Whole minutes, 1–1440.
   * @default - the `xTier` preset: 1 minute for `pay-per-use`, `pro` and `enterprise`, 2 for `basic`, 15 for `free`
   */
  readonly pollInterval?: Duration;
  /**
   * The X API access level of the app; sets the poll interval default and how many pollers and
   * senders may call X at once, and is passed to the functions as `X_TIER`.
   * @default 'pay-per-use' (X's default plan since 2026-02)
   */
  readonly xTier?: XTier;
  /**
   * Secret holding the X app's OAuth 2.0 credentials as JSON `{ "clientId", "clientSecret" }`.
   * Give at most one of `xAppSecret`, `xAppSecretName`, `xAppSecretArn`.
   * @default - the secret named `xAppSecretName`
   */
  readonly xAppSecret?: secretsmanager.ISecret;
  /**
   * Name of an existing secret with the X app credentials.
   * @default 'x-channel/x-app'
   */
  readonly xAppSecretName?: string;
  /**
   * Complete ARN of an existing secret with the X app credentials.
   * @default - the secret named `xAppSecretName`
   */
  readonly xAppSecretArn?: string;
  /**
   * E-mail addresses of the admins to create in the stack's user pool; each gets an invitation with a
   * temporary password.
   * @default - no admin users (add them in the Cognito console)
   */
  readonly adminEmails?: string[];
  /**
   * An existing user pool whose users may use the admin API and console. Requires `userPoolClient`
   * and `hostedUiDomain`.
   * @default - a user pool created by the construct (self sign-up off, MFA required)
   */
  readonly userPool?: cognito.IUserPool;
  /**
   * The console's app client in `userPool` (public client, authorization code grant with PKCE, the
   * admin console URL as callback).
   * @default - a client created in the construct's user pool
   */
  readonly userPoolClient?: cognito.IUserPoolClient;
  /**
   * Base URL of `userPool`'s hosted UI, e.g. `https://example.auth.eu-west-1.amazoncognito.com`.
   * @default - the domain created with the construct's user pool
   */
  readonly hostedUiDomain?: string;
  /**
   * Prefix of the Cognito hosted UI domain created with the construct's user pool (must be unique in
   * the region; lowercase letters, digits and hyphens; no `aws`, `amazon` or `cognito`).
   * @default - `xc-<account id>-<8 characters derived from the construct path>`
   */
  readonly cognitoDomainPrefix?: string;
  /**
   * Whether the inbound queue is FIFO, grouped by conversation (message order per conversation kept).
   * @default true
   */
  readonly inboundFifo?: boolean;
  /**
   * Whether the outbound queue is FIFO, grouped by conversation (replies sent in order).
   * @default true
   */
  readonly outboundFifo?: boolean;
  /**
   * How long the inbound, outbound and results queues keep an unread message (60 s to 14 days).
   * Dead-letter queues always keep 14 days.
   * @default - per queue from `adapters/aws/queues.ts`: inbound and results 14 days, outbound 4 days
   */
  readonly retention?: Duration;
  /**
   * What happens to the table, the KMS keys and the user pool when the stack is deleted.
   * With `RETAIN` the table also has deletion protection.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Topic every alarm notifies.
   * @default - alarms are created without actions (they still show on the dashboard)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Retention of the functions' and the API's log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Active X-Ray tracing on every function.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Name prefix of the per-channel token secrets; the functions' permissions are scoped to it.
   * @default - `x-channel/<stack name>/tokens/`
   */
  readonly tokenSecretPrefix?: string;
  /**
   * Steady-state and burst request limits of the HTTP API stage (requests per second).
   * @default - 20 requests per second, bursts of 40 (an admin console, not a public API)
   */
  readonly apiThrottle?: ThrottleSettings;
  /**
   * Alarm when the oldest message on the inbound queue is older than this (the case system is not
   * reading).
   * @default Duration.minutes(15)
   */
  readonly inboundAgeAlarmThreshold?: Duration;
  /**
   * Already-built code per function (an asset from a CI build, say), used instead of bundling the
   * function's entry from `lib/handlers.ts` with esbuild. The handler is `index.<export name>`; the
   * `api` asset must also hold the admin console in `console/dist/` (`npx tsx lib/bundle-cli.ts api <dir>`
   * builds exactly that).
   * @default - every function is bundled from its entry with the local esbuild
   */
  readonly prebuiltCode?: Partial<Record<HandlerName, lambda.Code>>;
  /**
   * Bundle the pinned AWS SDK v3 into every function instead of using the copy the Node.js 22 Lambda
   * runtime provides: 0.7–0.9 MB per function instead of 140–300 KiB. A way out should a runtime SDK
   * update ever break x-channel (it uses only long-stable client APIs).
   * @default false
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * Root of the x-channel source tree (holding `node_modules/` and the entries).
   * @default - the directory above this file's `lib/`
   */
  readonly projectRoot?: string;
}

/** The queues of x-channel, each with its dead-letter queue. */
export interface XChannelQueues {
  readonly pollJobs: sqs.Queue;
  readonly pollJobsDlq: sqs.Queue;
  readonly inbound: sqs.Queue;
  readonly inboundDlq: sqs.Queue;
  readonly outbound: sqs.Queue;
  readonly outboundDlq: sqs.Queue;
  readonly results: sqs.Queue;
  readonly resultsDlq: sqs.Queue;
}

/** Thrown when {@link XChannelProps} are invalid; lists every problem at once. */
export class XChannelPropsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid XChannel props:\n - ${problems.join('\n - ')}`);
    this.name = 'XChannelPropsError';
  }
}

const MIN_RETENTION_S = 60;
const MAX_RETENTION_S = 14 * 86400;
const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DOMAIN_PREFIX_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Collects every problem with the props (STYLE.md §7) instead of stopping at the first. */
function validateProps(scope: Construct, props: XChannelProps, projectRoot: string): string[] {
  const problems: string[] = [];
  if (Token.isUnresolved(Stack.of(scope).region)) {
    // TableV2 renders its customer-managed key per replica region, which needs a concrete region.
    problems.push(
      'the stack needs a concrete region (env: { region }); an XChannel cannot be region-agnostic',
    );
  }
  if (props.pollInterval !== undefined) {
    const minutes = props.pollInterval.toSeconds() / 60;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
      problems.push(
        `pollInterval must be whole minutes from 1 to 1440, got ${props.pollInterval.toSeconds()} seconds`,
      );
    }
  }
  if (props.xTier !== undefined && !X_TIERS.includes(props.xTier)) {
    problems.push(`xTier must be one of ${X_TIERS.join(', ')}, got "${String(props.xTier)}"`);
  }
  const secretChoices = [props.xAppSecret, props.xAppSecretName, props.xAppSecretArn].filter(
    (v) => v !== undefined,
  );
  if (secretChoices.length > 1) {
    problems.push('give at most one of xAppSecret, xAppSecretName and xAppSecretArn');
  }
  if (
    props.xAppSecretName !== undefined &&
    !Token.isUnresolved(props.xAppSecretName) &&
    !SECRET_NAME_RE.test(props.xAppSecretName)
  ) {
    problems.push(
      `xAppSecretName must be 1-512 characters of letters, digits and /_+=.@-, got "${props.xAppSecretName}"`,
    );
  }
  if (
    props.xAppSecretArn !== undefined &&
    !Token.isUnresolved(props.xAppSecretArn) &&
    !/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(props.xAppSecretArn)
  ) {
    problems.push(
      `xAppSecretArn must be a complete Secrets Manager secret ARN (ending in the 6-character suffix), got "${props.xAppSecretArn}"`,
    );
  }
  const emails = props.adminEmails ?? [];
  emails.forEach((email, i) => {
    if (!EMAIL_RE.test(email)) problems.push(`adminEmails[${i}] is not an e-mail address: "${email}"`);
  });
  if (new Set(emails.map((e) => e.toLowerCase())).size !== emails.length) {
    problems.push('adminEmails contains the same address twice');
  }
  if (props.userPool && !props.userPoolClient) problems.push('userPoolClient is required with userPool');
  if (props.userPoolClient && !props.userPool) problems.push('userPoolClient needs its userPool');
  if (props.userPool && !props.hostedUiDomain) problems.push('hostedUiDomain is required with userPool');
  if (props.hostedUiDomain !== undefined && !props.userPool) {
    problems.push('hostedUiDomain is only used with userPool');
  }
  if (props.hostedUiDomain !== undefined && !Token.isUnresolved(props.hostedUiDomain)) {
    if (!/^https:\/\/[^/\s]+$/.test(props.hostedUiDomain)) {
      problems.push(`hostedUiDomain must be an https origin without a path, got "${props.hostedUiDomain}"`);
    }
  }
  if (props.cognitoDomainPrefix !== undefined) {
    if (props.userPool) problems.push('cognitoDomainPrefix cannot be combined with userPool');
    const p = props.cognitoDomainPrefix;
    if (!Token.isUnresolved(p) && (!DOMAIN_PREFIX_RE.test(p) || /aws|amazon|cognito/.test(p))) {
      problems.push(
        `cognitoDomainPrefix must be 1-63 lowercase letters, digits or inner hyphens without "aws", "amazon" or "cognito", got "${p}"`,
      );
    }
  }
  if (props.retention !== undefined) {
    const s = props.retention.toSeconds();
    if (s < MIN_RETENTION_S || s > MAX_RETENTION_S) {
      problems.push(`retention must be from 60 seconds to 14 days, got ${s} seconds`);
    }
  }
  if (props.tokenSecretPrefix !== undefined && !SECRET_NAME_RE.test(props.tokenSecretPrefix)) {
    problems.push(
      `tokenSecretPrefix must be letters, digits and /_+=.@- only, got "${props.tokenSecretPrefix}"`,
    );
  }
  const t = props.apiThrottle;
  if (t?.rateLimit !== undefined && !(t.rateLimit > 0)) {
    problems.push(`apiThrottle.rateLimit must be > 0, got ${t.rateLimit}`);
  }
  if (t?.burstLimit !== undefined && !(Number.isInteger(t.burstLimit) && t.burstLimit > 0)) {
    problems.push(`apiThrottle.burstLimit must be a positive integer, got ${t.burstLimit}`);
  }
  if (props.inboundAgeAlarmThreshold !== undefined && props.inboundAgeAlarmThreshold.toSeconds() < 60) {
    problems.push(
      `inboundAgeAlarmThreshold must be at least 1 minute, got ${props.inboundAgeAlarmThreshold.toSeconds()} seconds`,
    );
  }
  for (const spec of Object.values(HANDLERS)) {
    if (props.prebuiltCode?.[spec.name]) continue;
    if (!fs.existsSync(path.join(projectRoot, spec.entry))) {
      problems.push(
        `function "${spec.name}": entry ${spec.entry} does not exist under projectRoot; add it or pass prebuiltCode.${spec.name}`,
      );
    }
  }
  return problems;
}

/** `pollJobs` → `PollJobs`: construct ids are a contract (renaming one replaces the resource). */
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * x-channel in one construct: the table, the keys, the queues, the four functions, the schedule, the
 * HTTP API with its user pool, alarms and a dashboard.
 *
 * @example
 * const channel = new XChannel(this, 'XChannel', { adminEmails: ['ops@example.com'] });
 * channel.grantConsumeInbound(caseSystemRole);
 * channel.grantSendOutbound(caseSystemRole);
 * channel.grantConsumeResults(caseSystemRole);
 */
export class XChannel extends Construct {
  /** Channels, checkpoints, OAuth state, leases, idempotency records (`adapters/aws/table.ts`). */
  public readonly table: dynamodb.TableV2;
  /** Customer-managed key of the per-channel token secrets, used only through Secrets Manager. */
  public readonly key: kms.Key;
  /** Customer-managed key of the table and the queues. */
  public readonly dataKey: kms.Key;
  /** The queues and their dead-letter queues. */
  public readonly queues: XChannelQueues;
  /** The admin API, OAuth callback and console. */
  public readonly api: HttpApi;
  /** The functions, by name. */
  public readonly functions: Readonly<Record<HandlerName, lambda.Function>>;
  /** The user pool whose users may use the admin API and console. */
  public readonly userPool: cognito.IUserPool;
  /** The console's app client. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The X app credentials secret. */
  public readonly xAppSecret: secretsmanager.ISecret;
  /** Name prefix of the per-channel token secrets. */
  public readonly tokenSecretPrefix: string;
  /** URL of the admin console. */
  public readonly consoleUrl: string;
  /** OAuth 2.0 callback URL to register with the X app. */
  public readonly oauthCallbackUrl: string;
  /** Base URL of the Cognito hosted UI the console signs in with. */
  public readonly hostedUiDomain: string;
  /** Every alarm, by a short name (`pollJobsDlq`, `inboundAge`, `pollerErrors`, ...). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Role EventBridge Scheduler uses to invoke the dispatcher. */
  public readonly scheduleRole: iam.Role;
  private readonly dataKeyGrants = new Set<string>();

  constructor(scope: Construct, id: string, props: XChannelProps = {}) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? path.resolve(__dirname, '..');
    const problems = validateProps(this, props, projectRoot);
    if (problems.length > 0) throw new XChannelPropsError(problems);

    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tier: XTier = props.xTier ?? 'pay-per-use';
    const preset = X_TIER_PRESETS[tier];
    const pollInterval = props.pollInterval ?? Duration.minutes(preset.pollIntervalMinutes);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    this.tokenSecretPrefix = props.tokenSecretPrefix ?? `x-channel/${stack.stackName}/tokens/`;

    // Two keys, so that a case system allowed to read the queues never gets a key that opens tokens.
    this.key = new kms.Key(this, 'TokenKey', {
      description: 'x-channel: encrypts the per-channel X token secrets',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'x-channel: encrypts the table and the queues',
      enableKeyRotation: true,
      removalPolicy,
    });

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableDefinition.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.dataKey),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
      globalSecondaryIndexes: tableDefinition.indexes.map((i) => ({
        indexName: i.name,
        partitionKey: { name: i.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: i.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType:
          i.projection === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL,
      })),
    });

    this.queues = this.createQueues(props);

    this.xAppSecret = props.xAppSecret
      ? props.xAppSecret
      : props.xAppSecretArn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'XAppSecret', props.xAppSecretArn)
        : secretsmanager.Secret.fromSecretNameV2(
            this,
            'XAppSecret',
            props.xAppSecretName ?? DEFAULT_X_APP_SECRET_NAME,
          );
    // A name is the reliable id for a secret imported by name (its ARN is partial); otherwise the ARN.
    const xAppSecretId =
      !props.xAppSecret && !props.xAppSecretArn
        ? (props.xAppSecretName ?? DEFAULT_X_APP_SECRET_NAME)
        : this.xAppSecret.secretArn;

    // The API (and so its URL) comes before the functions and the user pool client, which both need it.
    this.api = new HttpApi(this, 'Api', {
      description: 'x-channel admin API, OAuth callback and admin console',
      createDefaultStage: false,
    });
    const origin = this.api.apiEndpoint;
    this.consoleUrl = `${origin}/`;
    this.oauthCallbackUrl = `${origin}/oauth/callback`;

    const auth = this.createUserPool(props, removalPolicy);
    this.userPool = auth.userPool;
    this.userPoolClient = auth.client;
    this.hostedUiDomain = auth.hostedUiDomain;

    const env: Record<HandlerName, Record<string, string>> = {
      api: {
        TABLE_NAME: this.table.tableName,
        X_APP_SECRET_ID: xAppSecretId,
        TOKEN_SECRET_PREFIX: this.tokenSecretPrefix,
        TOKEN_KMS_KEY_ID: this.key.keyArn,
        OAUTH_REDIRECT_URI: this.oauthCallbackUrl,
        CONSOLE_ORIGIN: origin,
        POLL_JOBS_QUEUE_URL: this.queues.pollJobs.queueUrl,
        // What console/serve.ts expects: sign-in through the Cognito hosted UI (code + PKCE).
        AUTH_MODE: 'cognito',
        COGNITO_CLIENT_ID: this.userPoolClient.userPoolClientId,
        COGNITO_DOMAIN: this.hostedUiDomain,
        // console/serve.ts reads the console from here (lib/bundle-cli.ts puts it into the asset).
        CONSOLE_DIST_DIR: LAMBDA_CONSOLE_DIST_DIR,
      },
      dispatcher: {
        TABLE_NAME: this.table.tableName,
        POLL_JOBS_QUEUE_URL: this.queues.pollJobs.queueUrl,
        X_TIER: tier,
      },
      poller: {
        TABLE_NAME: this.table.tableName,
        INBOUND_QUEUE_URL: this.queues.inbound.queueUrl,
        X_APP_SECRET_ID: xAppSecretId,
        TOKEN_SECRET_PREFIX: this.tokenSecretPrefix,
        X_TIER: tier,
      },
      sender: {
        TABLE_NAME: this.table.tableName,
        RESULTS_QUEUE_URL: this.queues.results.queueUrl,
        OUTBOUND_DLQ_URL: this.queues.outboundDlq.queueUrl,
        OUTBOUND_MAX_RECEIVE_COUNT: String(QUEUES.outbound.maxReceiveCount),
        X_APP_SECRET_ID: xAppSecretId,
        TOKEN_SECRET_PREFIX: this.tokenSecretPrefix,
        X_TIER: tier,
      },
    };
    const fns = {} as Record<HandlerName, lambda.Function>;
    for (const spec of Object.values(HANDLERS)) {
      fns[spec.name] = this.createFunction(spec, env[spec.name], props, projectRoot, logRetention);
    }
    this.functions = fns;
    this.grantFunctionPermissions(fns);

    // Poll jobs: one channel per job keeps a slow account from holding others back; concurrency is
    // capped to protect the app-wide X limits.
    fns.poller.addEventSource(
      new SqsEventSource(this.queues.pollJobs, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: preset.pollerMaxConcurrency,
      }),
    );
    fns.sender.addEventSource(
      new SqsEventSource(this.queues.outbound, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: preset.senderMaxConcurrency,
      }),
    );

    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'x-channel: EventBridge Scheduler invokes the dispatcher',
    });
    new scheduler.Schedule(this, 'PollSchedule', {
      description: 'x-channel: dispatcher tick',
      schedule: scheduler.ScheduleExpression.rate(pollInterval),
      target: new LambdaInvoke(fns.dispatcher, {
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'x-channel.schedule' }),
        // A late tick is worthless: the next one does the same work with fresher data.
        maxEventAge: Duration.minutes(1),
        retryAttempts: 0,
        role: this.scheduleRole,
      }),
    });

    this.createHttpApi(fns.api, auth.authorizer, props, logRetention);
    this.alarms = this.createAlarms(fns, props);
    this.dashboard = this.createDashboard(fns);
  }

  /** Lets `grantee` receive and delete inbound messages (and decrypt them). */
  public grantConsumeInbound(grantee: iam.IGrantable): iam.Grant {
    return this.queues.inbound.grantConsumeMessages(grantee);
  }

  /** Lets `grantee` send outbound commands (and encrypt them). */
  public grantSendOutbound(grantee: iam.IGrantable): iam.Grant {
    return this.queues.outbound.grantSendMessages(grantee);
  }

  /** Lets `grantee` receive and delete delivery results (and decrypt them). */
  public grantConsumeResults(grantee: iam.IGrantable): iam.Grant {
    return this.queues.results.grantConsumeMessages(grantee);
  }

  private createQueues(props: XChannelProps): XChannelQueues {
    const fifo: Record<QueueRole, boolean> = {
      pollJobs: QUEUES.pollJobs.fifo,
      inbound: props.inboundFifo ?? QUEUES.inbound.fifo,
      outbound: props.outboundFifo ?? QUEUES.outbound.fifo,
      results: QUEUES.results.fifo,
    };
    // AWS: an event source queue's visibility timeout should be at least 6x the function timeout, so
    // a batch retried by Lambda's poller is not handed out again while a slow invocation still runs.
    const consumerTimeout: Partial<Record<QueueRole, number>> = {
      pollJobs: HANDLERS.poller.timeoutSeconds,
      outbound: HANDLERS.sender.timeoutSeconds,
    };
    const make = (spec: QueueSpec) => {
      const isFifo = fifo[spec.role];
      const encryption = {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.dataKey,
        enforceSSL: true,
      };
      const dlq = new sqs.Queue(this, `${pascal(spec.role)}Dlq`, {
        ...encryption,
        fifo: isFifo || undefined,
        retentionPeriod: Duration.days(14),
      });
      const consumer = consumerTimeout[spec.role];
      const visibility = Math.max(spec.visibilityTimeoutSeconds, consumer ? 6 * consumer : 0);
      const queue = new sqs.Queue(this, `${pascal(spec.role)}Queue`, {
        ...encryption,
        fifo: isFifo || undefined,
        // Outbound: the case system may omit MessageDeduplicationId (the body holds its idempotencyKey).
        contentBasedDeduplication: isFifo && spec.role === 'outbound' ? true : undefined,
        // Per-group throughput: each conversation is its own group, so the queue scales with them.
        deduplicationScope: isFifo ? sqs.DeduplicationScope.MESSAGE_GROUP : undefined,
        fifoThroughputLimit: isFifo ? sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID : undefined,
        visibilityTimeout: Duration.seconds(visibility),
        retentionPeriod:
          spec.role !== 'pollJobs' && props.retention
            ? props.retention
            : Duration.seconds(spec.retentionSeconds),
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
      });
      return { queue, dlq };
    };
    const p = make(QUEUES.pollJobs);
    const i = make(QUEUES.inbound);
    const o = make(QUEUES.outbound);
    const r = make(QUEUES.results);
    return {
      pollJobs: p.queue,
      pollJobsDlq: p.dlq,
      inbound: i.queue,
      inboundDlq: i.dlq,
      outbound: o.queue,
      outboundDlq: o.dlq,
      results: r.queue,
      resultsDlq: r.dlq,
    };
  }

  private createUserPool(props: XChannelProps, removalPolicy: RemovalPolicy) {
    let userPool: cognito.IUserPool;
    let client: cognito.IUserPoolClient;
    let hostedUiDomain: string;
    if (props.userPool && props.userPoolClient && props.hostedUiDomain) {
      userPool = props.userPool;
      client = props.userPoolClient;
      hostedUiDomain = props.hostedUiDomain;
    } else {
      const pool = new cognito.UserPool(this, 'UserPool', {
        // Admins are invited; nobody can sign themselves up to a console that controls X accounts.
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        autoVerify: { email: true },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        // Plus brings threat protection (compromised credentials, adaptive auth) for a few cents per admin.
        featurePlan: cognito.FeaturePlan.PLUS,
        standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        removalPolicy,
      });
      const prefix = props.cognitoDomainPrefix ?? `xc-${Aws.ACCOUNT_ID}-${this.node.addr.slice(0, 8)}`;
      const domain = pool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: prefix } });
      client = pool.addClient('ConsoleClient', {
        // A browser page cannot keep a secret: public client, authorization code grant with PKCE.
        generateSecret: false,
        authFlows: { userSrp: true },
        preventUserExistenceErrors: true,
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: [this.consoleUrl],
          logoutUrls: [this.consoleUrl],
        },
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.hours(12),
      });
      userPool = pool;
      hostedUiDomain = domain.baseUrl();
    }
    for (const email of props.adminEmails ?? []) {
      // Id from the address, not the list position: reordering the list must not recreate users.
      const hash = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 10);
      new cognito.CfnUserPoolUser(this, `Admin${hash}`, {
        userPoolId: userPool.userPoolId,
        username: email,
        desiredDeliveryMediums: ['EMAIL'],
        userAttributes: [
          { name: 'email', value: email },
          { name: 'email_verified', value: 'true' },
        ],
      });
    }
    const authorizer = new HttpUserPoolAuthorizer('AdminAuthorizer', userPool, {
      userPoolClients: [client],
    });
    return { userPool, client, hostedUiDomain, authorizer };
  }

  private createFunction(
    spec: HandlerSpec,
    environment: Record<string, string>,
    props: XChannelProps,
    projectRoot: string,
    logRetention: logs.RetentionDays,
  ): lambda.Function {
    const id = pascal(spec.name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own role per function, without the AWS managed basic-execution policy (which allows writing
    // to every log group in the account): this function writes to its own log group only.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `x-channel ${spec.name} function`,
    });
    logGroup.grantWrite(role);
    const common = {
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role,
      logGroup,
      tracing: (props.tracing ?? true) ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      // Scheduler-driven dispatcher: a retried tick would overlap the next one, which does the same work.
      retryAttempts: spec.name === 'dispatcher' ? 0 : undefined,
      environment: {
        ...environment,
        POWERTOOLS_SERVICE_NAME: METRICS.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    return new lambda.Function(this, `${id}Function`, {
      ...common,
      code: props.prebuiltCode?.[spec.name] ?? bundledCode(spec, projectRoot, props.bundleAwsSdk ?? false),
      handler: `index.${spec.exportName}`,
    });
  }

  private grantFunctionPermissions(fns: Record<HandlerName, lambda.Function>) {
    const region = Aws.REGION;
    const tableArn = this.table.tableArn;
    const indexArns = tableDefinition.indexes.map((i) => `${tableArn}/index/${i.name}`);
    const tokenSecretsArn = `arn:${Aws.PARTITION}:secretsmanager:${region}:${Aws.ACCOUNT_ID}:secret:${this.tokenSecretPrefix}*`;

    const tableReadWrite = (fn: lambda.Function) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TableReadWrite',
          actions: [
            'dynamodb:GetItem',
            'dynamodb:BatchGetItem',
            'dynamodb:Query',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
            'dynamodb:ConditionCheckItem',
          ],
          resources: [tableArn, ...indexArns],
        }),
      );
      this.grantDataKey(fn, 'dynamodb');
    };
    // Not queue.grantSendMessages: it adds kms:GenerateDataKey* and kms:ReEncrypt* wildcards, where a
    // producer on an SSE-KMS queue needs exactly GenerateDataKey and Decrypt.
    const sendTo = (fn: lambda.Function, queue: sqs.Queue) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `SendTo${pascal(queue.node.id)}`,
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
        }),
      );
      this.grantDataKey(fn, 'sqs');
    };
    const tokenSecrets = (fn: lambda.Function, actions: string[]) => {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TokenSecrets',
          actions: actions.map((a) => `secretsmanager:${a}`),
          resources: [tokenSecretsArn],
        }),
      );
      // The token key opens only through Secrets Manager: nobody decrypts a token blob directly.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TokenKeyViaSecretsManager',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
        }),
      );
      this.xAppSecret.grantRead(fn);
    };

    // api: channel CRUD, OAuth state, token secrets' whole lifecycle, an immediate poll after sign-in.
    tableReadWrite(fns.api);
    tokenSecrets(fns.api, [
      'CreateSecret',
      'DescribeSecret',
      'GetSecretValue',
      'PutSecretValue',
      'DeleteSecret',
      'TagResource',
    ]);
    fns.api.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateTokenSecretsWithTokenKeyOnly',
        effect: iam.Effect.DENY,
        actions: ['secretsmanager:CreateSecret'],
        resources: [tokenSecretsArn],
        // A token secret encrypted with the AWS managed key would escape the CMK's key policy.
        conditions: { StringNotEquals: { 'secretsmanager:KmsKeyArn': this.key.keyArn } },
      }),
    );
    sendTo(fns.api, this.queues.pollJobs);

    // dispatcher: reads the due index and enqueues jobs (no table writes: the poller claims each
    // channel), and counts channels by status on the list index for its gauges; never touches tokens.
    fns.dispatcher.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DueAndListIndexQuery',
        actions: ['dynamodb:Query'],
        resources: [`${tableArn}/index/${DUE_INDEX}`, `${tableArn}/index/${LIST_INDEX}`],
      }),
    );
    this.grantDataKey(fns.dispatcher, 'dynamodb');
    sendTo(fns.dispatcher, this.queues.pollJobs);

    // poller: checkpoints and leases, reads and refreshes tokens, publishes inbound.
    tableReadWrite(fns.poller);
    tokenSecrets(fns.poller, ['GetSecretValue', 'PutSecretValue']);
    sendTo(fns.poller, this.queues.inbound);

    // sender: idempotency records, tokens (refreshed under the lease), results, and the outbound DLQ
    // (a body that can never be a command goes there with its reason); it delays a
    // rate-limited command by changing its visibility (granted by the event source with the receive).
    tableReadWrite(fns.sender);
    tokenSecrets(fns.sender, ['GetSecretValue', 'PutSecretValue']);
    sendTo(fns.sender, this.queues.results);
    sendTo(fns.sender, this.queues.outboundDlq);
  }

  private grantDataKey(fn: lambda.Function, service: 'dynamodb' | 'sqs') {
    const sid = `DataKeyVia${pascal(service)}`;
    // One statement per service, however many tables or queues the function uses.
    if (this.dataKeyGrants.has(`${fn.node.id}/${sid}`)) return;
    this.dataKeyGrants.add(`${fn.node.id}/${sid}`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.dataKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `${service}.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  }

  private createHttpApi(
    fn: lambda.Function,
    authorizer: HttpUserPoolAuthorizer,
    props: XChannelProps,
    logRetention: logs.RetentionDays,
  ) {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new HttpStage(this, 'ApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40, ...props.apiThrottle },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // JSON, one line per request; no headers or query strings (the callback's carries the code).
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            principal: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', fn);
    const admin: Array<[string, HttpMethod[]]> = [
      ['/channels', [HttpMethod.GET, HttpMethod.POST]],
      ['/channels/{id}', [HttpMethod.GET, HttpMethod.PATCH, HttpMethod.DELETE]],
      ['/channels/{id}/authorize', [HttpMethod.POST]],
      ['/channels/{id}/health', [HttpMethod.GET]],
    ];
    for (const [routePath, methods] of admin) {
      this.api.addRoutes({ path: routePath, methods, integration, authorizer });
    }
    const publicRoutes: Array<[string, string]> = [
      [
        '/oauth/callback',
        'X redirects the browser here with no bearer token; the single-use state is the check',
      ],
      ['/', 'the admin console page must load before anyone has signed in'],
      ['/assets/{proxy+}', 'the console scripts and styles must load before anyone has signed in'],
    ];
    for (const [routePath, why] of publicRoutes) {
      for (const route of this.api.addRoutes({ path: routePath, methods: [HttpMethod.GET], integration })) {
        Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: `public on purpose: ${why}` });
      }
    }
  }

  private createAlarms(fns: Record<HandlerName, lambda.Function>, props: XChannelProps) {
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const add = (name: string, alarm: cloudwatch.Alarm) => {
      if (props.alarmTopic) alarm.addAlarmAction(new SnsAction(props.alarmTopic));
      alarms[name] = alarm;
    };
    const dlqs: Array<[string, sqs.Queue, string]> = [
      ['pollJobsDlq', this.queues.pollJobsDlq, 'poll jobs failed 5 times (see the poller logs)'],
      ['inboundDlq', this.queues.inboundDlq, 'the case system failed to process inbound messages'],
      ['outboundDlq', this.queues.outboundDlq, 'outbound commands could not be sent (see the results)'],
      ['resultsDlq', this.queues.resultsDlq, 'the case system failed to process delivery results'],
    ];
    for (const [name, dlq, why] of dlqs) {
      add(
        name,
        new cloudwatch.Alarm(this, `${pascal(name)}Alarm`, {
          alarmDescription: `x-channel: messages in a dead-letter queue: ${why}`,
          metric: dlq.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    const ageThreshold = props.inboundAgeAlarmThreshold ?? Duration.minutes(15);
    add(
      'inboundAge',
      new cloudwatch.Alarm(this, 'InboundAgeAlarm', {
        alarmDescription: `x-channel: the oldest inbound message is older than ${ageThreshold.toHumanString()}; is the case system reading?`,
        metric: this.queues.inbound.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: ageThreshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    for (const name of ['poller', 'sender'] as const) {
      add(
        `${name}Errors`,
        new cloudwatch.Alarm(this, `${pascal(name)}ErrorsAlarm`, {
          // Per-record failures are reported as batch item failures, not errors: an error here is a
          // crash or timeout of the whole invocation. Two bad periods out of three, not one blip.
          alarmDescription: `x-channel: the ${name} function keeps failing`,
          metric: fns[name].metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    add(
      'channelsNeedAttention',
      new cloudwatch.Alarm(this, 'ChannelsNeedAttentionAlarm', {
        alarmDescription:
          'x-channel: a channel needs an admin (status needs_reauth: sign in with X again; degraded: see its health)',
        metric: new cloudwatch.MathExpression({
          label: 'channels needing attention',
          expression: 'FILL(reauth, 0) + FILL(degraded, 0)',
          usingMetrics: {
            reauth: this.channelMetric('channelsNeedsReauth'),
            degraded: this.channelMetric('channelsDegraded'),
          },
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    return alarms;
  }

  private channelMetric(which: 'channelsNeedsReauth' | 'channelsDegraded') {
    return new cloudwatch.Metric({
      namespace: METRICS.namespace,
      metricName: METRICS[which],
      dimensionsMap: { service: METRICS.serviceName },
      statistic: 'Maximum',
      period: Duration.minutes(5),
    });
  }

  private createDashboard(fns: Record<HandlerName, lambda.Function>) {
    const q = this.queues;
    const visible = (queue: sqs.Queue, label: string) =>
      queue.metricApproximateNumberOfMessagesVisible({ label, statistic: 'Maximum' });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queue depth',
        left: [
          visible(q.pollJobs, 'poll jobs'),
          visible(q.inbound, 'inbound'),
          visible(q.outbound, 'outbound'),
          visible(q.results, 'results'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [
          visible(q.pollJobsDlq, 'poll jobs'),
          visible(q.inboundDlq, 'inbound'),
          visible(q.outboundDlq, 'outbound'),
          visible(q.resultsDlq, 'results'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Inbound age of oldest message (s)',
        left: [q.inbound.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' })],
        width: 8,
      }),
    );
    const names = Object.keys(fns) as HandlerName[];
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: names.map((n) => fns[n].metricInvocations({ label: n })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: names.map((n) => fns[n].metricErrors({ label: n })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99 (ms)',
        left: names.map((n) => fns[n].metricDuration({ label: n, statistic: 'p99' })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Channels needing attention',
        left: [
          this.channelMetric('channelsNeedsReauth').with({ label: 'needs_reauth' }),
          this.channelMetric('channelsDegraded').with({ label: 'degraded' }),
        ],
        width: 6,
      }),
    );
    return dashboard;
  }
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
