/**
 * The deployable stack: the {@link XChannel} construct, an optional e-mail alarm topic, the outputs a
 * platform engineer needs, and the cdk-nag packs with every acknowledgement and its reason.
 */
import { App, CfnOutput, Stack, Validations, type CfnResource, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { XChannel, type XChannelProps } from './x-channel';
import { HANDLERS } from './handlers';

/** Properties of {@link XChannelStack}. */
export interface XChannelStackProps extends StackProps {
  /**
   * Passed to the construct.
   * @default - the construct's defaults
   */
  readonly channel?: Omit<XChannelProps, 'alarmTopic'>;
  /**
   * Address subscribed to the alarm topic (it must confirm the subscription e-mail).
   * @default - no alarm topic; alarms show on the dashboard only
   */
  readonly alarmEmail?: string;
}

/** x-channel as one stack, with outputs for the case system and the X developer portal. */
export class XChannelStack extends Stack {
  /** The construct holding every x-channel resource. */
  public readonly channel: XChannel;
  /** The alarm topic, when `alarmEmail` was given. */
  public readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: XChannelStackProps = {}) {
    super(scope, id, {
      description: 'x-channel: X (Twitter) business accounts <-> customer-service case system over SQS',
      ...props,
    });
    if (props.alarmEmail !== undefined) {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
        throw new Error(`alarmEmail is not an e-mail address: "${props.alarmEmail}"`);
      }
      // CloudWatch can publish to an encrypted topic only with a customer-managed key it may use.
      const topicKey = new kms.Key(this, 'AlarmTopicKey', {
        description: 'x-channel: encrypts the alarm topic',
        enableKeyRotation: true,
      });
      topicKey.grant(
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        'kms:Decrypt',
        'kms:GenerateDataKey',
      );
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'x-channel alarms',
        masterKey: topicKey,
        enforceSSL: true,
      });
      this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    }
    this.channel = new XChannel(this, 'XChannel', { ...props.channel, alarmTopic: this.alarmTopic });

    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    out('AdminConsoleUrl', this.channel.consoleUrl, 'Admin console (sign in with a user of the user pool)');
    out(
      'OAuthCallbackUrl',
      this.channel.oauthCallbackUrl,
      'Callback URI to register in the X developer portal',
    );
    out(
      'WebhookUrl',
      this.channel.webhookUrl,
      'X Activity API webhook (real time): register it with X, see README "Configure X"',
    );
    const q = this.channel.queues;
    out('InboundQueueUrl', q.inbound.queueUrl, 'The case system reads mentions and DMs here');
    out('InboundQueueArn', q.inbound.queueArn, 'Inbound queue ARN (for IAM policies)');
    out('OutboundQueueUrl', q.outbound.queueUrl, 'The case system sends replies and DMs here');
    out('OutboundQueueArn', q.outbound.queueArn, 'Outbound queue ARN (for IAM policies)');
    out('ResultsQueueUrl', q.results.queueUrl, 'The case system reads delivery results here');
    out('ResultsQueueArn', q.results.queueArn, 'Results queue ARN (for IAM policies)');
    out(
      'DataKeyArn',
      this.channel.dataKey.keyArn,
      'Queue consumers and producers need kms:Decrypt / GenerateDataKey on it',
    );
    out(
      'MediaBucketName',
      this.channel.mediaBucket.bucketName,
      'Media bucket: outbound media under outbound/ (s3://<name>/outbound/<key> in mediaUrls; grantPutOutboundMedia)',
    );
    out(
      'MediaKeyArn',
      this.channel.mediaKey.keyArn,
      'Putting outbound media needs kms:GenerateDataKey on it (through S3)',
    );
    out('UserPoolId', this.channel.userPool.userPoolId, 'Cognito user pool of the admins');

    acknowledgeFindings(this);
  }
}

/**
 * Findings of the AwsSolutions and Serverless packs that are deliberate, each acknowledged on the
 * narrowest construct that carries it, with the reason a reviewer needs.
 */
function acknowledgeFindings(stack: XChannelStack): void {
  const c = stack.channel;
  for (const spec of Object.values(HANDLERS)) {
    const fn = c.functions[spec.name];
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime x-channel is built and tested on (esbuild target node22); moving to a newer runtime is a tested change, not a default.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason:
          'Node.js 22 is the runtime x-channel is built and tested on (esbuild target node22); moving to a newer runtime is a tested change, not a default.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          spec.name === 'dispatcher'
            ? 'The scheduled dispatcher is idempotent and re-run every tick; a failed tick is redone by the next one, so a DLQ would only collect stale ticks.'
            : spec.name === 'webhook'
              ? 'Invoked synchronously by API Gateway; its asynchronous invocations are the real-time watch schedule, idempotent and re-run every minute, so a DLQ would only collect stale ticks.'
              : spec.name === 'api'
                ? 'Invoked synchronously by API Gateway; its asynchronous invocations are the revocation retry schedule, whose records keep their own attempts and backoff and are re-read every tick, so a DLQ would only collect stale ticks.'
                : 'Invoked synchronously (API Gateway) or by an SQS event source whose queue has its own DLQ; a function-level DLQ only applies to asynchronous invocations.',
      },
    );
    Validations.of(fn.role!).acknowledge({
      // Logs: the log group ARN itself ends in ":*" (all its streams); X-Ray has no resource-level permissions.
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }
  for (const name of ['api', 'poller', 'sender'] as const) {
    Validations.of(c.functions[name].role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${c.tokenSecretPrefix}*]`,
      reason:
        'One token secret per channel, created at run time when an admin signs an account in; the wildcard is confined to the stack-specific token prefix.',
    });
  }
  Validations.of(c.functions.dispatcher).acknowledge({
    id: 'Serverless-LambdaAsyncFailureDestination',
    reason:
      'The dispatcher is invoked asynchronously by the schedule only; a failed tick is redone by the next one, so there is nothing to deliver to a failure destination.',
  });
  Validations.of(c.node.findChild('MediaLogBucket')).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'This is the access-log bucket of the media bucket; logging its own accesses into itself would loop, and nothing but S3 log delivery writes it.',
  });
  for (const name of ['poller', 'sender'] as const) {
    Validations.of(c.functions[name].role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(c.mediaBucket.node.defaultChild as CfnResource)}.Arn>/${name === 'poller' ? 'inbound' : 'outbound'}/*]`,
      reason:
        name === 'poller'
          ? 'Inbound DM media is stored under content-addressed keys made at run time; the wildcard is confined to the inbound/ prefix of the media bucket.'
          : 'Outbound media keys are chosen by the case system at run time; the wildcard is confined to the outbound/ prefix of the media bucket, read only.',
    });
  }
  Validations.of(c.scheduleRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(c.functions.dispatcher.node.defaultChild as CfnResource)}.Arn>:*]`,
    reason:
      'The Scheduler target grant allows invoking the dispatcher function and its versions (":*"); it names that one function only.',
  });
  Validations.of(c.scheduleRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(c.functions.webhook.node.defaultChild as CfnResource)}.Arn>:*]`,
    reason:
      'The Scheduler target grant allows invoking the webhook function (its real-time watch tick) and its versions (":*"); it names that one function only.',
  });
  Validations.of(c.scheduleRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(c.functions.api.node.defaultChild as CfnResource)}.Arn>:*]`,
    reason:
      'The Scheduler target grant allows invoking the api function (its revocation retry tick) and its versions (":*"); it names that one function only.',
  });
  Validations.of(c.functions.api).acknowledge({
    id: 'Serverless-LambdaAsyncFailureDestination',
    reason:
      'Invoked asynchronously only by the revocation retry schedule; each pending revocation keeps its attempts and next attempt in the table and the next tick redoes a failed one, so there is nothing to deliver to a failure destination.',
  });
  Validations.of(c.functions.webhook).acknowledge({
    id: 'Serverless-LambdaAsyncFailureDestination',
    reason:
      'Invoked asynchronously only by the real-time watch schedule; a failed tick is redone by the next one (every step is idempotent), so there is nothing to deliver to a failure destination.',
  });
  for (const [name, dlq] of [
    ['poll jobs', c.queues.pollJobsDlq],
    ['inbound', c.queues.inboundDlq],
    ['outbound', c.queues.outboundDlq],
    ['results', c.queues.resultsDlq],
  ] as const) {
    Validations.of(dlq).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This is the dead-letter queue of the ${name} queue; it has a depth alarm and is redriven by hand.`,
    });
  }
  if (stack.alarmTopic) {
    Validations.of(stack.alarmTopic).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'The only subscription is the operator e-mail for alarms; failed e-mail deliveries show in the topic metrics and the alarms stay visible on the dashboard, so a DLQ of undelivered alarm e-mails adds nothing.',
    });
  }
  if (c.alertTopic) {
    Validations.of(c.alertTopic).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'The subscription is the operator e-mail for alerts; an alert stays open in GET /alerts and the console until its condition ends, so a DLQ of undelivered alert e-mails adds nothing.',
    });
  }
  if (c.alertRule) {
    Validations.of(c.alertRule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The rule only forwards alerts to the alert topic; every alert stays open in GET /alerts and the console until its condition ends, so a DLQ of undelivered copies adds nothing.',
    });
  }
  for (const name of ['poller', 'sender'] as const) {
    Validations.of(c.functions[name]).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event sources do not support on-failure destinations; failed records go to the queue’s redrive DLQ, which has an alarm.',
    });
  }
}

/** Adds the AwsSolutions and Serverless cdk-nag packs to `app` (errors fail the synth). */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
}
