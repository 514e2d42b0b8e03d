/**
 * The CloudWatch names x-channel publishes its metrics under (Powertools EMF) and alarms on. The
 * functions that emit and the construct that alarms (`lib/x-channel-monitoring.ts`) both import them
 * from here: an alarm on a namespace or metric nobody publishes never fires, and nothing says so.
 *
 * Plain constants, free of aws-cdk-lib and the AWS SDK, so the Lambda bundles and the CDK app share them.
 */

/** The CloudWatch namespace of every x-channel metric (also `POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'XChannel';

/** The `service` dimension of every metric (`POWERTOOLS_SERVICE_NAME` in AWS). */
export const METRICS_SERVICE_NAME = 'x-channel';

/**
 * The channel gauges the dispatcher publishes every few ticks and the `ChannelsNeedAttention` alarm
 * watches.
 */
export const CHANNEL_GAUGES = {
  /** Channels whose tokens were refused and need an admin to sign in again. */
  needsReauth: 'ChannelsNeedsReauth',
  /** Channels X refuses some access to (tier too low, feature unavailable). */
  degraded: 'ChannelsDegraded',
} as const;
