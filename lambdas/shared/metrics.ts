/**
 * One Powertools `Metrics` per cold start for every function, in the namespace and `service`
 * dimension of core/metrics.ts — the names the construct's alarms watch.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE_NAME } from '../../core/metrics';

/** Metrics in x-channel's namespace (service: `POWERTOOLS_SERVICE_NAME`, as the construct sets it). */
export function createMetrics(): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? METRICS_SERVICE_NAME,
  });
}
