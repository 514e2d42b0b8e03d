/**
 * The functions publish their metrics under `core/metrics.ts`'s namespace, the one the construct's
 * alarms watch (test/cdk/x-channel.test.ts checks the alarm side): the two cannot diverge silently.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { compose as composeDispatcher } from '../../../lambdas/dispatcher/compose';
import { loadConfig as loadDispatcherConfig } from '../../../lambdas/dispatcher/config';
import { compose as composePoller } from '../../../lambdas/poller/compose';
import { loadConfig as loadPollerConfig } from '../../../lambdas/poller/config';
import { CHANNEL_GAUGES, METRICS_NAMESPACE } from '../../../core/metrics';

const env = {
  AWS_REGION: 'eu-west-1',
  TABLE_NAME: 'x-channel-test',
  POLL_JOBS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/poll-jobs',
  INBOUND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/inbound.fifo',
  X_APP_SECRET_ID: 'x-channel/x-app',
};

describe('metrics namespace shared by the emitters and the alarms', () => {
  it.each([
    ['dispatcher', () => composeDispatcher(loadDispatcherConfig(env)).metrics],
    ['poller', () => composePoller(loadPollerConfig(env)).metrics],
  ])('the %s publishes under METRICS_NAMESPACE', (_name, metricsOf) => {
    // Prepare
    const metrics = metricsOf();
    // Act
    metrics.addMetric(CHANNEL_GAUGES.degraded, MetricUnit.Count, 1);
    const emf = metrics.serializeMetrics();
    metrics.clearMetrics();
    // Assess
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
    // The published name is a contract too: renaming it orphans every existing alarm and graph.
    expect(METRICS_NAMESPACE).toBe('XChannel');
  });
});
