/**
 * A small EventBridge stand-in: `PutEvents` only, over the AWS JSON 1.1 protocol
 * (`x-amz-target: AWSEvents.PutEvents`), so the real `@aws-sdk/client-eventbridge` talks to it
 * unchanged. x-channel only publishes (its alerts, adapters/aws/eventbridge-alerts.ts); rules and
 * targets are the deployer's, so none are emulated: each accepted event is kept in memory (the last
 * 1,000) and handed to `onEvent` as EventBridge would deliver it to a target (`version`, `id`,
 * `detail-type`, `source`, `account`, `time`, `region`, `resources`, `detail`).
 *
 * As EventBridge documents PutEvents: 1–10 entries (else `ValidationException`), at most 256 KB in
 * all (UTF-8 of Source, DetailType, Detail and Resources, plus 14 bytes per entry with a Time), and
 * per entry `Source`, `DetailType` and `Detail` required (`InvalidArgument`), `Detail` a JSON object
 * (`MalformedDetail`); a failed entry has `ErrorCode`/`ErrorMessage` and no `EventId`, the others go
 * through (`FailedEntryCount`). Requests pass stand-ins/request-guard.ts (loopback, SigV4) first.
 * What differs from AWS is in stand-ins/README.md.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, serveAwsJson } from './aws-json-server';

/** An event as a rule target receives it. */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  /** The bus it was put on (not in AWS's envelope; for tests). */
  eventBusName: string;
}

export interface EventBridgeOptions {
  port?: number;
  region?: string;
  /** Buses that exist besides `default` (names). */
  buses?: string[];
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Called for each accepted event, in order. */
  onEvent?: (event: DeliveredEvent) => void;
}

export interface EventBridgeStandIn {
  endpoint: string;
  /** The accepted events, oldest first (the last 1,000). */
  events(): DeliveredEvent[];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_ENTRIES_BYTES = 256 * 1024;
const ACCOUNT = '000000000000';

interface Entry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
  EventBusName?: unknown;
}

const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);

/** Entry size as EventBridge documents it ("Calculating PutEvents event entry size"). */
function entrySize(e: Entry): number {
  let size = (e.Time !== undefined ? 14 : 0) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail);
  if (Array.isArray(e.Resources)) for (const r of e.Resources) size += bytes(r);
  return size;
}

function busName(nameOrArn: unknown): string {
  const s = typeof nameOrArn === 'string' && nameOrArn ? nameOrArn : 'default';
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(s);
  return arn ? arn[1] : s;
}

export async function startEventBridge(options: EventBridgeOptions): Promise<EventBridgeStandIn> {
  const region = options.region ?? 'us-east-1';
  const buses = new Set(['default', ...(options.buses ?? [])]);
  const kept: DeliveredEvent[] = [];

  const putEvents = (input: { Entries?: unknown }) => {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
      );
    }
    const total = (entries as Entry[]).reduce((n, e) => n + entrySize(e ?? {}), 0);
    if (total > MAX_ENTRIES_BYTES)
      throw new AwsError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    let failed = 0;
    const results = (entries as Entry[]).map((e) => {
      const fail = (ErrorCode: string, ErrorMessage: string) => {
        failed++;
        return { ErrorCode, ErrorMessage };
      };
      for (const field of ['Source', 'DetailType', 'Detail'] as const) {
        if (typeof e?.[field] !== 'string' || !e[field])
          return fail(
            'InvalidArgument',
            `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
          );
      }
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail as string);
      } catch {
        return fail('MalformedDetail', 'Detail is malformed.');
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
        return fail('MalformedDetail', 'Detail is malformed.');
      const bus = busName(e.EventBusName);
      if (!buses.has(bus)) return fail('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
      const event: DeliveredEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType as string,
        source: e.Source as string,
        account: ACCOUNT,
        time: new Date(typeof e.Time === 'number' ? e.Time * 1000 : Date.now())
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        region,
        resources: Array.isArray(e.Resources)
          ? e.Resources.filter((r): r is string => typeof r === 'string')
          : [],
        detail,
        eventBusName: bus,
      };
      kept.push(event);
      if (kept.length > 1000) kept.shift();
      try {
        options.onEvent?.(event);
      } catch {
        // a listener's failure is not the caller's
      }
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  };

  const server = await serveAwsJson({
    port: options.port,
    credentials: options.credentials,
    maxBodyBytes: MAX_BODY_BYTES,
    tooLargeCode: 'ValidationException',
    internalErrorCode: 'InternalException',
    operation: (target) =>
      target === 'AWSEvents.PutEvents' ? (input) => putEvents(input as { Entries?: unknown }) : undefined,
  });
  return {
    endpoint: server.endpoint,
    events: () => [...kept],
    stop: () => server.stop(),
  };
}
