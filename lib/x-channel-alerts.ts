/**
 * The alerts of {@link XChannel} (core/alerts/, docs/alerts.md): the dispatcher evaluates them on its
 * gauge ticks and puts each opening and clearing on an EventBridge bus; optionally a rule forwards this
 * deployment's alerts to an SNS topic (and an e-mail address). Least privilege, each statement named:
 * - `AlertsRead`: `dynamodb:GetItem|BatchGetItem|Query` on the table, only partitions `ALERT`,
 *   `COST#…`, `COSTAPP…` and `RT#APP` (`dynamodb:LeadingKeys`);
 * - `AlertsWrite`: `dynamodb:PutItem|UpdateItem|DeleteItem` on the table, only partition `ALERT`;
 * - `AlertsBudgetList`: `dynamodb:UpdateItem` only on partition `COSTAPP` and only its attributes
 *   `budgetedChannels` and `budgetedChannelsListedAt` (the one-time backfill of the list of channels with a
 *   budget, adapters/aws/alert-sources.ts);
 * - `AlertsDlqDepth`: `sqs:GetQueueAttributes` on the four dead-letter queues (no message access);
 * - `AlertsPutEvents`: `events:PutEvents` on the bus, only with source `x-channel.alerts`.
 */
import { Aws, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { ALERT_EVENT_SOURCE } from '../adapters/aws/eventbridge-alerts';
import type { XChannelQueues } from './x-channel-queues';

export interface AlertsOptions {
  dispatcher: lambda.Function;
  table: dynamodb.TableV2;
  queues: XChannelQueues;
  consoleUrl: string;
  eventBus?: events.IEventBus;
  topic?: sns.ITopic;
  email?: string;
  removalPolicy: RemovalPolicy;
}

export interface Alerts {
  /** The bus alerts go to. */
  eventBus: events.IEventBus;
  /** The rule forwarding this deployment's alerts to {@link topic}, when there is one. */
  rule?: events.Rule;
  topic?: sns.ITopic;
}

export function createXChannelAlerts(scope: Construct, o: AlertsOptions): Alerts {
  const fn = o.dispatcher;
  const eventBus = o.eventBus ?? events.EventBus.fromEventBusName(scope, 'AlertEventBus', 'default');
  const deployment = scope.node.path;
  fn.addEnvironment('ALERT_EVENT_BUS', o.eventBus ? eventBus.eventBusArn : 'default');
  fn.addEnvironment('ALERT_DEPLOYMENT', deployment);
  fn.addEnvironment('CONSOLE_URL', o.consoleUrl);
  const dlqs = [
    ['POLL_JOBS_DLQ_URL', o.queues.pollJobsDlq],
    ['INBOUND_DLQ_URL', o.queues.inboundDlq],
    ['OUTBOUND_DLQ_URL', o.queues.outboundDlq],
    ['RESULTS_DLQ_URL', o.queues.resultsDlq],
  ] as const;
  for (const [env, q] of dlqs) fn.addEnvironment(env, q.queueUrl);

  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'AlertsRead',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      resources: [o.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ALERT', 'COST#*', 'COSTAPP*', 'RT#APP'] },
      },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'AlertsWrite',
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [o.table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ALERT'] } },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'AlertsBudgetList',
      actions: ['dynamodb:UpdateItem'],
      resources: [o.table.tableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': ['COSTAPP'],
          'dynamodb:Attributes': ['pk', 'sk', 'budgetedChannels', 'budgetedChannelsListedAt'],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
      },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'AlertsDlqDepth',
      actions: ['sqs:GetQueueAttributes'],
      resources: dlqs.map(([, q]) => q.queueArn),
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'AlertsPutEvents',
      actions: ['events:PutEvents'],
      resources: [
        o.eventBus
          ? eventBus.eventBusArn
          : `arn:${Aws.PARTITION}:events:${Stack.of(scope).region}:${Aws.ACCOUNT_ID}:event-bus/default`,
      ],
      conditions: { StringEquals: { 'events:source': ALERT_EVENT_SOURCE } },
    }),
  );

  let topic = o.topic;
  if (!topic && o.email) {
    // EventBridge can publish to an encrypted topic only with a customer-managed key it may use.
    const key = new kms.Key(scope, 'AlertTopicKey', {
      description: 'x-channel: encrypts the alert topic',
      enableKeyRotation: true,
      removalPolicy: o.removalPolicy,
    });
    key.grant(new iam.ServicePrincipal('events.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    topic = new sns.Topic(scope, 'AlertTopic', {
      displayName: 'x-channel alerts',
      masterKey: key,
      enforceSSL: true,
    });
  }
  if (!topic) return { eventBus };
  if (o.email) topic.addSubscription(new EmailSubscription(o.email));
  const field = (p: string) => events.EventField.fromPath(`$.detail.${p}`);
  const rule = new events.Rule(scope, 'AlertRule', {
    description: 'x-channel: this deployment’s alerts (opened and cleared) to the alert topic',
    eventBus,
    eventPattern: { source: [ALERT_EVENT_SOURCE], detail: { deployment: [deployment] } },
    targets: [
      new SnsTopic(topic, {
        message: events.RuleTargetInput.fromText(
          `${field('title')}\n\n${field('text')}\n\nState: ${field('state')} (${field('severity')}, ${field('kind')})\nConsole: ${field('consoleUrl')}`,
        ),
      }),
    ],
  });
  return { eventBus, rule, topic };
}
