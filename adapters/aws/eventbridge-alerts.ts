/**
 * `AlertPublisher` on EventBridge: each announcement is one event (`PutEvents`, ≤ 10 entries a call)
 * on the stack's bus (the account's `default` bus unless the construct was given one), with source
 * {@link ALERT_EVENT_SOURCE} and detail-type {@link ALERT_DETAIL_TYPES}; the detail is
 * {@link AlertEventDetail} (docs/alerts.md). Locally the EventBridge stand-in (stand-ins/eventbridge.ts)
 * receives them through the same client. Only the dispatcher imports this file (no other bundle loads
 * the EventBridge client).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AlertEventDetail as ContractAlertDetail } from '../../contracts/alert';
import type { AlertEvent, AlertPublisher } from '../../core/alerts/evaluate';

export const ALERT_EVENT_SOURCE = 'x-channel.alerts';
export const ALERT_DETAIL_TYPES = {
  opened: 'x-channel alert opened',
  cleared: 'x-channel alert cleared',
} as const;
export const ALERT_SCHEMA = 'x-channel.alert.v1';

/**
 * The `detail` of an alert event: the contract's type (contracts/alert.ts, JSON Schema
 * `schemas/alert.v1.json`, docs/asyncapi.yaml), so the code cannot drift from the documented schema.
 */
export type AlertEventDetail = ContractAlertDetail;

export function alertEventDetail(e: AlertEvent, deployment: string): AlertEventDetail {
  const a = e.alert;
  return {
    schema: ALERT_SCHEMA,
    deployment,
    id: a.id,
    kind: a.kind,
    state: e.type === 'opened' ? 'open' : 'cleared',
    severity: a.severity,
    channelId: a.channelId,
    title: e.type === 'opened' ? a.title : `Cleared: ${a.title}`,
    text: a.text,
    consoleUrl: a.consoleUrl,
    openedAt: a.openedAt,
    clearedAt: e.type === 'cleared' ? a.clearedAt : null,
    facts: a.facts,
  };
}

export function createEventBridgeClient(options: {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): EventBridgeClient {
  return new EventBridgeClient({
    region: options.region,
    maxAttempts: 3,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials
      ? {
          credentials: {
            accessKeyId: options.credentials.accessKeyId,
            secretAccessKey: options.credentials.secretAccessKey,
          },
        }
      : {}),
  });
}

export function createEventBridgeAlertPublisher(options: {
  client: EventBridgeClient;
  /** Bus name or ARN; `default` is the account's default bus. */
  eventBusName: string;
  deployment: string;
}): AlertPublisher {
  const { client, eventBusName, deployment } = options;
  return {
    async publish(events) {
      const accepted: boolean[] = [];
      for (let i = 0; i < events.length; i += 10) {
        const chunk = events.slice(i, i + 10);
        const out = await client.send(
          new PutEventsCommand({
            Entries: chunk.map((e) => ({
              EventBusName: eventBusName,
              Source: ALERT_EVENT_SOURCE,
              DetailType: ALERT_DETAIL_TYPES[e.type],
              Detail: JSON.stringify(alertEventDetail(e, deployment)),
            })),
          }),
        );
        // Entries answer in request order; a failed one has ErrorCode and no EventId
        chunk.forEach((_, j) =>
          accepted.push(Boolean(out.Entries?.[j]?.EventId) && !out.Entries?.[j]?.ErrorCode),
        );
      }
      return accepted;
    },
  };
}
