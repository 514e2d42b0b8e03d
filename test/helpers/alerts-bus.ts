/**
 * The EventBridge stand-in beside a test's local AWS, and the real `@aws-sdk/client-eventbridge` client
 * signed with the same credentials: where the alert tests publish and read their events.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createEventBridgeClient } from '../../adapters/aws/eventbridge-alerts';
import { startEventBridge, type EventBridgeStandIn } from '../../stand-ins/eventbridge';
import type { LocalAws } from './local-aws';

export async function startAlertsBus(
  aws: LocalAws,
  buses?: string[],
): Promise<{ bus: EventBridgeStandIn; events: EventBridgeClient }> {
  const bus = await startEventBridge({ credentials: aws.credentials, buses });
  const events = createEventBridgeClient({
    region: aws.region,
    endpoint: bus.endpoint,
    credentials: aws.credentials,
  });
  return { bus, events };
}
