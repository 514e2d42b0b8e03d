/**
 * The monitoring room of {@link XChannel}: one alarm per thing an operator must act on (a dead-letter
 * queue with messages, an inbound queue nobody reads, a function that keeps crashing, a channel that
 * needs an admin) and a dashboard with the alarms on top. The channel gauges are the ones the
 * dispatcher publishes: their namespace and names come from `core/metrics.ts`, as the dispatcher's do.
 */
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { CHANNEL_GAUGES, METRICS_NAMESPACE, METRICS_SERVICE_NAME } from '../core/metrics';
import type { HandlerName } from './handlers';
import { pascal, type XChannelQueues } from './x-channel-queues';

/** What the alarms watch and whom they tell. */
export interface MonitoringOptions {
  readonly queues: XChannelQueues;
  readonly functions: Readonly<Record<HandlerName, lambda.Function>>;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** @default Duration.minutes(15) */
  readonly inboundAgeAlarmThreshold?: Duration;
}

/** A channel gauge the dispatcher publishes once per tick. */
export function channelMetric(which: keyof typeof CHANNEL_GAUGES): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: CHANNEL_GAUGES[which],
    dimensionsMap: { service: METRICS_SERVICE_NAME },
    statistic: 'Maximum',
    period: Duration.minutes(5),
  });
}

/** Every alarm, by a short name (`pollJobsDlq`, `inboundAge`, `pollerErrors`, ...), ids `<Name>Alarm`. */
export function createXChannelAlarms(
  scope: Construct,
  options: MonitoringOptions,
): Record<string, cloudwatch.Alarm> {
  const { queues, functions: fns } = options;
  const alarms: Record<string, cloudwatch.Alarm> = {};
  const add = (name: string, alarm: cloudwatch.Alarm) => {
    if (options.alarmTopic) alarm.addAlarmAction(new SnsAction(options.alarmTopic));
    alarms[name] = alarm;
  };
  const dlqs: Array<[string, sqs.Queue, string]> = [
    ['pollJobsDlq', queues.pollJobsDlq, 'poll jobs failed 5 times (see the poller logs)'],
    ['inboundDlq', queues.inboundDlq, 'the case system failed to process inbound messages'],
    ['outboundDlq', queues.outboundDlq, 'outbound commands could not be sent (see the results)'],
    ['resultsDlq', queues.resultsDlq, 'the case system failed to process delivery results'],
  ];
  for (const [name, dlq, why] of dlqs) {
    add(
      name,
      new cloudwatch.Alarm(scope, `${pascal(name)}Alarm`, {
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
  const ageThreshold = options.inboundAgeAlarmThreshold ?? Duration.minutes(15);
  add(
    'inboundAge',
    new cloudwatch.Alarm(scope, 'InboundAgeAlarm', {
      alarmDescription: `x-channel: the oldest inbound message is older than ${ageThreshold.toHumanString()}; is the case system reading?`,
      metric: queues.inbound.metricApproximateAgeOfOldestMessage({
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
      new cloudwatch.Alarm(scope, `${pascal(name)}ErrorsAlarm`, {
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
    new cloudwatch.Alarm(scope, 'ChannelsNeedAttentionAlarm', {
      alarmDescription:
        'x-channel: a channel needs an admin (status needs_reauth: sign in with X again; degraded: see its health)',
      metric: new cloudwatch.MathExpression({
        label: 'channels needing attention',
        expression: 'FILL(reauth, 0) + FILL(degraded, 0)',
        usingMetrics: {
          reauth: channelMetric('needsReauth'),
          degraded: channelMetric('degraded'),
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

/** The operations dashboard (id `Dashboard`): alarms, queue depths, function health, channel gauges. */
export function createXChannelDashboard(
  scope: Construct,
  options: Pick<MonitoringOptions, 'queues' | 'functions'> & {
    readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  },
): cloudwatch.Dashboard {
  const { queues: q, functions: fns } = options;
  const visible = (queue: sqs.Queue, label: string) =>
    queue.metricApproximateNumberOfMessagesVisible({ label, statistic: 'Maximum' });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard');
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(options.alarms), width: 24 }),
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
        channelMetric('needsReauth').with({ label: 'needs_reauth' }),
        channelMetric('degraded').with({ label: 'degraded' }),
      ],
      width: 6,
    }),
  );
  return dashboard;
}
