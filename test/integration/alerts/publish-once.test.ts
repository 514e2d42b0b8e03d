/**
 * Once per condition, through the real clients: the DynamoDB alert store on DynamoDB Local and the
 * EventBridge publisher (`@aws-sdk/client-eventbridge`) on the EventBridge stand-in. Two evaluators
 * racing on the same conditions announce each change once; a publish that fails is retried by the
 * next evaluation after the lease; the stand-in refuses what EventBridge refuses.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createDynamoAlertStore } from '../../../adapters/aws/dynamo-alerts';
import {
  ALERT_DETAIL_TYPES,
  ALERT_EVENT_SOURCE,
  createEventBridgeAlertPublisher,
  createEventBridgeClient,
} from '../../../adapters/aws/eventbridge-alerts';
import type { AlertCondition } from '../../../core/alerts/conditions';
import { reconcileAlerts, type AlertPublisher } from '../../../core/alerts/evaluate';
import type { EventBridgeStandIn } from '../../../stand-ins/eventbridge';
import { alertDetailProblems } from '../../helpers/alert-contract';
import { startAlertsBus } from '../../helpers/alerts-bus';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';

jest.setTimeout(60_000);

let aws: LocalAws;
let bus: EventBridgeStandIn;
let client: EventBridgeClient;

beforeAll(async () => {
  aws = await startLocalAws();
  ({ bus, events: client } = await startAlertsBus(aws, ['ops']));
});
afterAll(async () => {
  client?.destroy();
  await bus?.stop();
  await aws?.stop();
});

const condition = (id: string, channelId: string | null = null): AlertCondition => ({
  id,
  kind: id.split(':')[0] as AlertCondition['kind'],
  severity: 'critical',
  channelId,
  title: `title of ${id}`,
  text: `text of ${id}`,
  facts: { n: 1 },
});

function setup(tableSuffix: string, now: { t: number }) {
  const store = createDynamoAlertStore({ client: aws.clients.doc, tableName: aws.tableName });
  const publisher = createEventBridgeAlertPublisher({
    client,
    eventBusName: 'ops',
    deployment: `test-${tableSuffix}`,
  });
  const clock = { now: () => new Date(now.t) };
  return { store, publisher, clock, consoleUrl: 'https://console.example/' };
}

const eventsOf = (deployment: string) =>
  bus.events().filter((e) => (e.detail as { deployment: string }).deployment === deployment);

it('two evaluators at once announce each opening and each clearing once', async () => {
  const now = { t: Date.parse('2026-12-07T10:00:00Z') };
  const deps = setup('race', now);
  const wanted = [condition('needs_reauth:ch_race1', 'ch_race1'), condition('dlq_not_empty:outbound')];

  const [a, b] = await Promise.all([reconcileAlerts(deps, wanted), reconcileAlerts(deps, wanted)]);
  expect([...a.opened, ...b.opened].sort()).toEqual(['dlq_not_empty:outbound', 'needs_reauth:ch_race1']);
  // nothing changes while the conditions hold
  now.t += 60_000;
  const again = await reconcileAlerts(deps, wanted);
  expect(again).toMatchObject({ opened: [], cleared: [], retried: [], open: 2 });

  now.t += 60_000;
  const [c, d] = await Promise.all([reconcileAlerts(deps, []), reconcileAlerts(deps, [])]);
  expect([...c.cleared, ...d.cleared].sort()).toEqual(['dlq_not_empty:outbound', 'needs_reauth:ch_race1']);
  expect(await deps.store.list()).toEqual([]);

  const events = eventsOf('test-race');
  expect(events.map((e) => [e['detail-type'], (e.detail as { id: string }).id]).sort()).toEqual([
    [ALERT_DETAIL_TYPES.cleared, 'dlq_not_empty:outbound'],
    [ALERT_DETAIL_TYPES.cleared, 'needs_reauth:ch_race1'],
    [ALERT_DETAIL_TYPES.opened, 'dlq_not_empty:outbound'],
    [ALERT_DETAIL_TYPES.opened, 'needs_reauth:ch_race1'],
  ]);
  const opened = events.find(
    (e) =>
      e['detail-type'] === ALERT_DETAIL_TYPES.opened &&
      (e.detail as { id: string }).id === 'needs_reauth:ch_race1',
  )!;
  expect(opened).toMatchObject({ source: ALERT_EVENT_SOURCE, eventBusName: 'ops' });
  expect(opened.detail).toEqual({
    schema: 'x-channel.alert.v1',
    deployment: 'test-race',
    id: 'needs_reauth:ch_race1',
    kind: 'needs_reauth',
    state: 'open',
    severity: 'critical',
    channelId: 'ch_race1',
    title: 'title of needs_reauth:ch_race1',
    text: 'text of needs_reauth:ch_race1',
    consoleUrl: 'https://console.example/#/channels/ch_race1',
    openedAt: '2026-12-07T10:00:00.000Z',
    clearedAt: null,
    facts: { n: 1 },
  });
  const cleared = events.find(
    (e) =>
      e['detail-type'] === ALERT_DETAIL_TYPES.cleared &&
      (e.detail as { id: string }).id === 'dlq_not_empty:outbound',
  )!;
  expect(cleared.detail).toMatchObject({
    state: 'cleared',
    title: 'Cleared: title of dlq_not_empty:outbound',
    consoleUrl: 'https://console.example/',
    clearedAt: '2026-12-07T10:02:00.000Z',
  });
  // every event on the wire is what docs/asyncapi.yaml says (schemas/alert.v1.json)
  for (const e of events) expect(alertDetailProblems(e.detail)).toEqual([]);
  expect(
    alertDetailProblems({ ...(opened.detail as object), state: 'closed', extra: 1 }).length,
  ).toBeGreaterThanOrEqual(2);
});

it('an announcement the bus refused is published by a later evaluation, after the lease, once', async () => {
  const now = { t: Date.parse('2026-12-07T11:00:00Z') };
  const deps = setup('retry', now);
  const down: AlertPublisher = { publish: async () => Promise.reject(new Error('bus unreachable')) };
  const wanted = [condition('credits_depleted:app')];

  const failed = await reconcileAlerts({ ...deps, publisher: down }, wanted);
  expect(failed).toMatchObject({ opened: ['credits_depleted:app'], failed: ['credits_depleted:app'] });
  // within the lease nobody takes it over
  now.t += 30_000;
  expect(await reconcileAlerts(deps, wanted)).toMatchObject({ opened: [], retried: [] });
  expect(eventsOf('test-retry')).toHaveLength(0);
  // after it, one evaluator does
  now.t += 60_000;
  const [x, y] = await Promise.all([reconcileAlerts(deps, wanted), reconcileAlerts(deps, wanted)]);
  expect([...x.retried, ...y.retried]).toEqual(['credits_depleted:app']);
  expect(eventsOf('test-retry').map((e) => e['detail-type'])).toEqual([ALERT_DETAIL_TYPES.opened]);
  expect((await deps.store.list())[0]).toMatchObject({ state: 'open', pending: null });
});

it('the stand-in refuses what EventBridge refuses: bad entries fail alone, 11 entries fail the call', async () => {
  const out = await client.send(
    new PutEventsCommand({
      Entries: [
        { Source: 'a', DetailType: 'b', Detail: '{"ok":true}' },
        { Source: 'a', DetailType: 'b', Detail: 'not json' },
        { Source: 'a', DetailType: 'b' },
        { Source: 'a', DetailType: 'b', Detail: '{}', EventBusName: 'nope' },
      ],
    }),
  );
  expect(out.FailedEntryCount).toBe(3);
  expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
    'ok',
    'MalformedDetail',
    'InvalidArgument',
    'ResourceNotFoundException',
  ]);
  await expect(
    client.send(
      new PutEventsCommand({
        Entries: Array.from({ length: 11 }, () => ({ Source: 'a', DetailType: 'b', Detail: '{}' })),
      }),
    ),
  ).rejects.toMatchObject({ name: 'ValidationException' });
  const unsigned = createEventBridgeClient({
    region: aws.region,
    endpoint: bus.endpoint,
    credentials: { accessKeyId: 'AKIDWRONG', secretAccessKey: 'wrong' },
  });
  await expect(
    unsigned.send(new PutEventsCommand({ Entries: [{ Source: 'a', DetailType: 'b', Detail: '{}' }] })),
  ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  unsigned.destroy();
});
