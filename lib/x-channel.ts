/**
 * `XChannel`: everything x-channel needs in one AWS account, as one reusable construct. The queue
 * topology and table layout come from `adapters/aws/` and the functions from `lib/handlers.ts`, so the
 * deployed system and the local runtime (`npm start`) are built from the same definitions.
 *
 * This file is the wiring: the public members, which function gets which resource, and the public
 * grants. The rooms it wires:
 * - `x-channel-props.ts`: the props and the rule table they are validated against;
 * - `x-channel-queues.ts`: the queues and their dead-letter queues;
 * - `x-channel-media.ts`: the media bucket, its key and access-log bucket, and the media grants;
 * - `x-channel-functions.ts`: the function factory and the binders (a variable and its grant in one call);
 * - `x-channel-api.ts`: the user pool, the HTTP API's stage and routes;
 * - `x-channel-monitoring.ts`: alarms and the dashboard;
 * - `x-channel-alerts.ts`: the alerts' grants, bus and optional topic.
 * Every resource is created directly in this construct, so its id (a contract) is the same as when
 * all of it lived in one file.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as events from 'aws-cdk-lib/aws-events';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { QUEUES } from '../adapters/aws/queues';
import { tableDefinition } from '../adapters/aws/table';
import { REALTIME_WATCH_SOURCE } from '../core/realtime/watch';
import { REVOCATION_RETRY_SOURCE } from '../core/revocations';
import { LAMBDA_CONSOLE_DIST_DIR } from './bundling';
import { HANDLERS, X_TIER_PRESETS, type HandlerName, type XTier } from './handlers';
import { createXChannelAlerts } from './x-channel-alerts';
import { addApiStageAndRoutes, createAdminAuth } from './x-channel-api';
import {
  createBinders,
  createXChannelFunction,
  SQS_ACTIONS,
  SQS_KEY_ACTIONS,
  viaService,
  type QueueAccess,
} from './x-channel-functions';
import { createMediaBucket, grantMedia, type MediaBucket } from './x-channel-media';
import { createXChannelAlarms, createXChannelDashboard } from './x-channel-monitoring';
import {
  DEFAULT_X_APP_SECRET_NAME,
  validateXChannelProps,
  XChannelPropsError,
  type XChannelProps,
} from './x-channel-props';
import { createXChannelQueues, type XChannelQueues } from './x-channel-queues';
import { createTokenKey } from './x-channel-token-key';

export { DEFAULT_X_APP_SECRET_NAME, XChannelPropsError, type XChannelProps } from './x-channel-props';
export type { XChannelQueues } from './x-channel-queues';

/** One EventBridge Scheduler tick: invoke a function with `{ source }` every `every`. */
interface ScheduledTick {
  readonly description: string;
  readonly every: Duration;
  /** The `source` the invoked handler routes the tick by. */
  readonly source: string;
  /** A tick older than this is dropped. */
  readonly maxEventAge: Duration;
}

/**
 * x-channel in one construct: the table, the keys, the queues, the four functions, the schedule, the
 * HTTP API with its user pool, alarms and a dashboard.
 *
 * @example
 * const channel = new XChannel(this, 'XChannel', { adminEmails: ['ops@example.com'] });
 * channel.grantConsumeInbound(caseSystemRole);
 * channel.grantSendOutbound(caseSystemRole);
 * channel.grantConsumeResults(caseSystemRole);
 * channel.grantPutOutboundMedia(caseSystemRole);
 */
export class XChannel extends Construct {
  /** Channels, checkpoints, OAuth state, leases, idempotency records (`adapters/aws/table.ts`). */
  public readonly table: dynamodb.TableV2;
  /**
   * Customer-managed key of the per-channel token secrets. Its key policy lets only the functions that
   * hold tokens (and `tokenReaderRoleArns`) decrypt, only through Secrets Manager; the account keeps
   * key administration without cryptography (`lib/x-channel-token-key.ts`).
   */
  public readonly key: kms.Key;
  /** Customer-managed key of the table and the queues. */
  public readonly dataKey: kms.Key;
  /** The queues and their dead-letter queues. */
  public readonly queues: XChannelQueues;
  /**
   * Media: inbound DM media under `inbound/<channelId>/` (the poller writes it and presigns GETs),
   * outbound media under `outbound/` (the case system puts it, `grantPutOutboundMedia`; the sender
   * reads it). Private, SSE-KMS with {@link mediaKey}, TLS only, objects expire (`mediaExpiration`).
   */
  public readonly mediaBucket: s3.Bucket;
  /** Customer-managed key of the media bucket (a key apart from the data key and the token key). */
  public readonly mediaKey: kms.Key;
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
  /** X Activity API webhook URL to register with X (`POST /2/webhooks`; X-API.md §7). */
  public readonly webhookUrl: string;
  /** Base URL of the Cognito hosted UI the console signs in with. */
  public readonly hostedUiDomain: string;
  /** Every alarm, by a short name (`pollJobsDlq`, `inboundAge`, `pollerErrors`, ...). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The EventBridge bus the alerts go to (source `x-channel.alerts`; docs/alerts.md). */
  public readonly alertEventBus: events.IEventBus;
  /** The topic this deployment's alerts are forwarded to (`alertTopic`, or the construct's for `alertEmail`). */
  public readonly alertTopic?: sns.ITopic;
  /** The rule forwarding this deployment's alerts to {@link alertTopic}. */
  public readonly alertRule?: events.Rule;
  /** Role EventBridge Scheduler uses to invoke the dispatcher, the webhook's watch and the api's revocation retry. */
  public readonly scheduleRole: iam.Role;
  private readonly media: MediaBucket;

  constructor(scope: Construct, id: string, props: XChannelProps = {}) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? path.resolve(__dirname, '..');
    const stack = Stack.of(this);
    const problems = validateXChannelProps({ props, region: stack.region, projectRoot });
    if (problems.length > 0) throw new XChannelPropsError(problems);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tier: XTier = props.xTier ?? 'pay-per-use';
    const preset = X_TIER_PRESETS[tier];
    const pollInterval = props.pollInterval ?? Duration.minutes(preset.pollIntervalMinutes);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    this.tokenSecretPrefix = props.tokenSecretPrefix ?? `x-channel/${stack.stackName}/tokens/`;

    // Two keys, so that a case system allowed to read the queues never gets a key that opens tokens.
    // The token key's policy, not IAM alone, decides who reads a token (lib/x-channel-token-key.ts).
    const tokenKey = createTokenKey(this, {
      removalPolicy,
      readerRoleArns: props.tokenReaderRoleArns ?? [],
    });
    this.key = tokenKey.key;
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

    this.queues = createXChannelQueues(this, {
      dataKey: this.dataKey,
      inboundFifo: props.inboundFifo,
      outboundFifo: props.outboundFifo,
      retention: props.retention,
    });

    const media: MediaBucket = createMediaBucket(this, {
      removalPolicy,
      expiration: props.mediaExpiration ?? Duration.days(30),
    });
    this.media = media;
    this.mediaBucket = media.bucket;
    this.mediaKey = media.key;

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
    this.webhookUrl = `${origin}/x/webhook`;

    const auth = createAdminAuth(this, props, { removalPolicy, consoleUrl: this.consoleUrl });
    this.userPool = auth.userPool;
    this.userPoolClient = auth.client;
    this.hostedUiDomain = auth.hostedUiDomain;

    // Plain values per function; every resource variable comes with its grant from a binder below.
    const plainEnv: Record<HandlerName, Record<string, string>> = {
      api: {
        OAUTH_REDIRECT_URI: this.oauthCallbackUrl,
        CONSOLE_ORIGIN: origin,
        ...(props.adminGroup ? { ADMIN_GROUP: props.adminGroup } : {}),
        // What console/serve.ts expects: sign-in through the Cognito hosted UI (code + PKCE).
        AUTH_MODE: 'cognito',
        COGNITO_CLIENT_ID: this.userPoolClient.userPoolClientId,
        COGNITO_DOMAIN: this.hostedUiDomain,
        // console/serve.ts reads the console from here (lib/bundle-cli.ts puts it into the asset).
        CONSOLE_DIST_DIR: LAMBDA_CONSOLE_DIST_DIR,
        // channels' X Activity API subscriptions: the plan decides whether there are any, for this webhook
        X_TIER: tier,
        WEBHOOK_PUBLIC_URL: this.webhookUrl,
      },
      dispatcher: { X_TIER: tier },
      poller: {
        X_TIER: tier,
        WEBHOOK_PUBLIC_URL: this.webhookUrl,
        MEDIA_BUCKET: media.bucket.bucketName,
        MEDIA_URL_TTL_SECONDS: String((props.mediaUrlLifetime ?? Duration.hours(6)).toSeconds()),
      },
      // The last receive of a command reports its result: the sender must know the redrive count.
      sender: {
        OUTBOUND_MAX_RECEIVE_COUNT: String(QUEUES.outbound.maxReceiveCount),
        X_TIER: tier,
        MEDIA_BUCKET: media.bucket.bucketName,
        ...(props.outboundMediaAllowedOrigins?.length
          ? { OUTBOUND_MEDIA_ALLOWED_ORIGINS: props.outboundMediaAllowedOrigins.join(',') }
          : {}),
      },
      // the watch (same function, on its schedule) picks this deployment's webhook from X's list
      webhook: { X_TIER: tier, WEBHOOK_PUBLIC_URL: this.webhookUrl },
    };
    const fns = {} as Record<HandlerName, lambda.Function>;
    for (const spec of Object.values(HANDLERS)) {
      fns[spec.name] = createXChannelFunction(this, spec, plainEnv[spec.name], {
        projectRoot,
        logRetention,
        tracing: props.tracing ?? true,
        prebuiltCode: props.prebuiltCode,
        bundleAwsSdk: props.bundleAwsSdk ?? false,
      });
    }
    this.functions = fns;

    const { bindTable, bindQueue, bindTokenSecrets, bindXAppSecret } = createBinders({
      dataKey: this.dataKey,
      tokenKey: this.key,
      addTokenKeyUser: (role) => tokenKey.addUser(role),
      tokenSecretPrefix: this.tokenSecretPrefix,
      xAppSecret: this.xAppSecret,
      xAppSecretId,
    });
    const q = this.queues;

    // api: channel CRUD, OAuth state, token secrets' whole lifecycle, an immediate poll after sign-in.
    bindTable(fns.api, this.table, 'TABLE_NAME', 'readWrite');
    bindTokenSecrets(fns.api, 'manage');
    bindQueue(fns.api, q.pollJobs, 'POLL_JOBS_QUEUE_URL', 'send');

    // dispatcher: reads the due index and enqueues jobs (no table writes: the poller claims each
    // channel), and counts channels by status on the list index for its gauges; never touches tokens.
    bindTable(fns.dispatcher, this.table, 'TABLE_NAME', 'queryIndexes');
    bindQueue(fns.dispatcher, q.pollJobs, 'POLL_JOBS_QUEUE_URL', 'send');

    // poller: one channel per job keeps a slow account from holding others back; concurrency is
    // capped to protect the app-wide X limits. Checkpoints and leases, reads and refreshes tokens,
    // publishes inbound.
    bindQueue(fns.poller, q.pollJobs, undefined, 'consume', {
      batchSize: 1,
      maxConcurrency: preset.pollerMaxConcurrency,
    });
    bindTable(fns.poller, this.table, 'TABLE_NAME', 'readWrite');
    bindTokenSecrets(fns.poller, 'readWrite');
    bindQueue(fns.poller, q.inbound, 'INBOUND_QUEUE_URL', 'send');
    grantMedia(fns.poller, media, 'inbound');

    // sender: idempotency records, tokens (refreshed under the lease), results, and the outbound DLQ
    // (a body that can never be a command goes there with its reason); it delays a rate-limited
    // command by changing its visibility (granted by the event source with the receive).
    bindQueue(fns.sender, q.outbound, undefined, 'consume', {
      batchSize: 10,
      maxConcurrency: preset.senderMaxConcurrency,
    });
    bindTable(fns.sender, this.table, 'TABLE_NAME', 'readWrite');
    bindTokenSecrets(fns.sender, 'readWrite');
    bindQueue(fns.sender, q.results, 'RESULTS_QUEUE_URL', 'send');
    bindQueue(fns.sender, q.outboundDlq, 'OUTBOUND_DLQ_URL', 'send');
    grantMedia(fns.sender, media, 'readOutbound');

    // webhook: X's CRC and signed events (the X app secret's API key secret); routes each event by the
    // account claim, records delivered items, marks a revoked channel, publishes inbound. No tokens.
    bindTable(fns.webhook, this.table, 'TABLE_NAME', 'readWrite');
    bindXAppSecret(fns.webhook);
    bindQueue(fns.webhook, q.inbound, 'INBOUND_QUEUE_URL', 'send');
    // a DM with media: one poll job at once, so the poller (which holds the token) downloads it now
    bindQueue(fns.webhook, q.pollJobs, 'POLL_JOBS_QUEUE_URL', 'send');

    // alerts: evaluated by the dispatcher (its gauge ticks), announced on EventBridge (x-channel-alerts.ts)
    const alerts = createXChannelAlerts(this, {
      dispatcher: fns.dispatcher,
      table: this.table,
      queues: q,
      consoleUrl: this.consoleUrl,
      eventBus: props.alertEventBus,
      topic: props.alertTopic,
      email: props.alertEmail,
      removalPolicy,
    });
    this.alertEventBus = alerts.eventBus;
    this.alertTopic = alerts.topic;
    this.alertRule = alerts.rule;

    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description:
        'x-channel: EventBridge Scheduler invokes the dispatcher, the real-time watch and the revocation retry',
    });
    // A late tick is worthless: the next one does the same work with fresher data (no retries).
    const tick = (id: string, fn: lambda.IFunction, t: ScheduledTick): void => {
      new scheduler.Schedule(this, id, {
        description: t.description,
        schedule: scheduler.ScheduleExpression.rate(t.every),
        target: new LambdaInvoke(fn, {
          input: scheduler.ScheduleTargetInput.fromObject({ source: t.source }),
          maxEventAge: t.maxEventAge,
          retryAttempts: 0,
          role: this.scheduleRole,
        }),
      });
    };
    tick('PollSchedule', fns.dispatcher, {
      description: 'x-channel: dispatcher tick',
      every: pollInterval,
      source: 'x-channel.schedule',
      maxEventAge: Duration.minutes(1),
    });
    // the webhook function's real-time watch (core/realtime/watch.ts): outages → X's replay, each minute
    tick('RealtimeWatchSchedule', fns.webhook, {
      description: 'x-channel: real-time watch tick (outage windows, replay jobs)',
      every: Duration.minutes(1),
      source: REALTIME_WATCH_SOURCE,
      maxEventAge: Duration.minutes(1),
    });
    // the api function's retry of pending revocations (core/revocations.ts): each record is backed off
    // on its own (5 min doubling to 1 h), the tick only looks. The api function, not the public webhook,
    // because it already holds the token secrets' lifecycle and the X app credentials a revocation needs.
    tick('RevocationRetrySchedule', fns.api, {
      description: 'x-channel: retry of pending revocations at X (deleted channels, replaced grants)',
      every: Duration.minutes(5),
      source: REVOCATION_RETRY_SOURCE,
      maxEventAge: Duration.minutes(5),
    });

    addApiStageAndRoutes(this, this.api, {
      functions: fns,
      authorizer: auth.authorizer,
      throttle: props.apiThrottle,
      consoleThrottle: props.consoleThrottle,
      webhookThrottle: props.webhookThrottle,
      logRetention,
    });
    this.alarms = createXChannelAlarms(this, {
      queues: q,
      functions: fns,
      alarmTopic: props.alarmTopic,
      inboundAgeAlarmThreshold: props.inboundAgeAlarmThreshold,
    });
    this.dashboard = createXChannelDashboard(this, { queues: q, functions: fns, alarms: this.alarms });
  }

  /**
   * Lets `grantee` read inbound messages, as narrowly as x-channel's own consumers. Grants exactly:
   * - `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:ChangeMessageVisibility`, `sqs:GetQueueAttributes`
   *   on the inbound queue;
   * - `kms:Decrypt` on the data key, only through SQS (`kms:ViaService`): never on the table it also
   *   encrypts.
   */
  public grantConsumeInbound(grantee: iam.IGrantable): iam.Grant {
    return this.grantQueue(grantee, this.queues.inbound, 'consume');
  }

  /**
   * Lets `grantee` send outbound commands, as narrowly as x-channel's own producers. Grants exactly:
   * - `sqs:SendMessage` on the outbound queue;
   * - `kms:GenerateDataKey` and `kms:Decrypt` on the data key, only through SQS (`kms:ViaService`).
   */
  public grantSendOutbound(grantee: iam.IGrantable): iam.Grant {
    return this.grantQueue(grantee, this.queues.outbound, 'send');
  }

  /**
   * Lets `grantee` read delivery results, as narrowly as x-channel's own consumers. Grants exactly:
   * - `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:ChangeMessageVisibility`, `sqs:GetQueueAttributes`
   *   on the results queue;
   * - `kms:Decrypt` on the data key, only through SQS (`kms:ViaService`).
   */
  public grantConsumeResults(grantee: iam.IGrantable): iam.Grant {
    return this.grantQueue(grantee, this.queues.results, 'consume');
  }

  /**
   * Lets `grantee` put outbound media for `mediaUrls` (`s3://<mediaBucket>/outbound/<key>`). Grants
   * exactly:
   * - `s3:PutObject` on `<mediaBucket>/outbound/*` (no read, no delete, nothing under `inbound/`);
   * - `kms:GenerateDataKey` on the media key, only through S3 (`kms:ViaService`).
   */
  public grantPutOutboundMedia(grantee: iam.IGrantable): iam.Grant {
    return grantMedia(grantee, this.media, 'putOutbound');
  }

  /** The queue actions and the data key through SQS; resource policies only across accounts. */
  private grantQueue(grantee: iam.IGrantable, queue: sqs.IQueue, access: QueueAccess): iam.Grant {
    const onQueue = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...SQS_ACTIONS[access]],
      resourceArns: [queue.queueArn],
      resource: queue,
    });
    const onKey = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...SQS_KEY_ACTIONS[access]],
      resourceArns: [this.dataKey.keyArn],
      resourceSelfArns: ['*'],
      resource: this.dataKey,
      conditions: viaService('sqs'),
    });
    return onQueue.combine(onKey);
  }
}
